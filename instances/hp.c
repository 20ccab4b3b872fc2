/* Hazard pointers' instance of every workload. */
#define SMR_SCHEME hp
#define SMR_SCHEME_SUMMARY "hazard pointers (Michael): protect = locked exchange + re-load, scan every R retires"
#define SMR_SCHEME_FAMILY SMR_FAMILY_POINTER
#include "instances/instance.h"

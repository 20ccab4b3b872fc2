/* Publish-on-ping hazard pointers' (HazardPtrPOP) instance of every workload. */
#define SMR_SCHEME hp_pop
#define SMR_SCHEME_NAME "hp-pop"
#define SMR_SCHEME_SUMMARY "hazard pointers published on ping: protect = plain local store + re-load, a signal to every thread per scan"
#define SMR_SCHEME_FAMILY SMR_FAMILY_POINTER
#include "harness/instance.h"

/* Epoch-based reclamation's instance of every workload. */
#define SMR_SCHEME ebr
#define SMR_SCHEME_SUMMARY "epoch-based: pin = load + locked exchange, three limbo bags per thread"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
#include "instances/instance.h"

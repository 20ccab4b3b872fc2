/* Quiescent-state-based reclamation's instance of every workload. */
#define SMR_SCHEME qsbr
#define SMR_SCHEME_SUMMARY "quiescent-state-based: nothing on reads, an announcement every qsbr_k ops"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
#include "instances/instance.h"

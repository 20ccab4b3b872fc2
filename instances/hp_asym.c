/* Asymmetric-fence hazard pointers' instance of every workload. */
#define SMR_SCHEME hp_asym
#define SMR_SCHEME_NAME "hp-asym"
#define SMR_SCHEME_SUMMARY "hazard pointers, asymmetric: protect = plain store + re-load, membarrier per scan"
#define SMR_SCHEME_FAMILY SMR_FAMILY_POINTER
#include "instances/instance.h"

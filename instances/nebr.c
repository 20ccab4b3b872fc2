/* Hart's batched EBR (NEBR)'s instance of every workload. */
#define SMR_SCHEME nebr
#define SMR_SCHEME_SUMMARY "batched EBR (Hart's NEBR): one pin per ops_per_cs operations, unpinned at quiescent()"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
#include "instances/instance.h"

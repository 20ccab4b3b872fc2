/* Lock-free reference counting's instance of every workload. */
#define SMR_SCHEME rc
#define SMR_SCHEME_SUMMARY "lock-free reference counting (Valois, Michael & Scott): counted links and protects, type-stable pool"
#define SMR_SCHEME_FAMILY SMR_FAMILY_COUNT
#include "instances/instance.h"

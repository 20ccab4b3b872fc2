/* The leak floor's instance of every workload. */
#define SMR_SCHEME none
#define SMR_SCHEME_SUMMARY "no reclamation until the end: the floor every ratio is taken against"
#define SMR_SCHEME_FAMILY SMR_FAMILY_NONE
#include "instances/instance.h"

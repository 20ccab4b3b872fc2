/* 2GEIBR's instance of every workload. */
#define SMR_SCHEME ibr
#define SMR_SCHEME_SUMMARY "interval-based (2GEIBR, Wen et al.): begin reserves [era, era], protect raises the upper bound"
#define SMR_SCHEME_FAMILY SMR_FAMILY_ERA
#include "instances/instance.h"

/* Hazard eras' instance of every workload. */
#define SMR_SCHEME he
#define SMR_SCHEME_SUMMARY "hazard eras (Ramalhete & Correia): protect publishes the era, frees when no era lies in [birth, retire]"
#define SMR_SCHEME_FAMILY SMR_FAMILY_ERA
#include "instances/instance.h"

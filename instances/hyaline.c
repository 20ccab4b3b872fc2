/* Hyaline-1S's instance of every workload. */
#define SMR_SCHEME hyaline
#define SMR_SCHEME_SUMMARY "Hyaline-1S (Nikolaev & Ravindran): counted batches handed to the active threads whose era may cover them"
#define SMR_SCHEME_FAMILY SMR_FAMILY_ERA
#include "harness/instance.h"

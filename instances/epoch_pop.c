/* EpochPOP's instance of every workload: EBR, falling back on hazard pointers published on ping. */
#define SMR_SCHEME epoch_pop
#define SMR_SCHEME_NAME "epoch-pop"
#define SMR_SCHEME_SUMMARY "EBR's pin + plain local hazards; past a backlog, pings every thread and frees what no hazard holds (robust)"
#define SMR_SCHEME_FAMILY SMR_FAMILY_POINTER
#include "harness/instance.h"

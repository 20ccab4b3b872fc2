/* smr_pool.c - placeholder until the pool lands: malloc underneath. */
#include "smr_pool.h"

#include <malloc.h>
#include <stdlib.h>

bool smr_pool_on;

void smr_pool_enable(void) { smr_pool_on = true; }
void *smr_pool_alloc(size_t size) { return malloc(size); }
void smr_pool_free(void *p) { free(p); }
size_t smr_pool_usable_size(const void *p) { return malloc_usable_size((void *)p); }

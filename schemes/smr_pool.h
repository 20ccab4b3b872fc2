/*
 * smr_pool.h - Hart et al.'s node allocator (-P alloc=pool): a preallocated
 * region carved into per-thread magazines over a global depot, growing by
 * large chunks.  Type-stable: its memory is never given back to the OS while
 * the process lives.  smr_node_alloc()/smr_node_free() use it once the cell's
 * process has called smr_pool_enable().
 */
#ifndef SMR_POOL_H
#define SMR_POOL_H

#include <stdbool.h>
#include <stddef.h>

/* True once smr_pool_enable() ran: nodes come from the pool. */
extern bool smr_pool_on;

/* Route node allocation through the pool (before any thread allocates a node). */
void smr_pool_enable(void);
/* 16-byte aligned, never NULL (aborts with a message when out of memory). */
void *smr_pool_alloc(size_t size);
/* p from smr_pool_alloc, freed by any thread. */
void smr_pool_free(void *p);
/* Bytes usable at p (its size class). */
size_t smr_pool_usable_size(const void *p);

#endif

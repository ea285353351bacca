/*
 * arena.c - the front end's memory: everything the scanner, parser and checker
 * allocate lives in one arena and is freed at once when the compilation ends.
 */
#include <stdlib.h>
#include <string.h>

#include "bpc.h"

/* The strictest alignment any allocation needs (C99 has no Align). */
typedef union {
    long double ld;
    long long ll;
    void *p;
} Align;

struct ArenaBlock {
    ArenaBlock *next;
    size_t used, size;
    Align data[];
};

enum { ARENA_BLOCK = 64 * 1024 };

void *arena_alloc(Arena *a, size_t size)
{
    size = (size + sizeof(Align) - 1) / sizeof(Align) * sizeof(Align);
    ArenaBlock *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            internal_error(__FILE__, __LINE__, "out of memory");
        b->size = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return memset(p, 0, size);
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    return p;
}

void arena_free(Arena *a)
{
    while (a->head) {
        ArenaBlock *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

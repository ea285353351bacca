/*
 * trainer_main.c - bprt_trainer_main for a program that trains alone.
 *
 * It is a file of its own so that build/libbprt_mpi.a can provide the other one: a
 * program linked with libbprt_mpi.a before libbprt.a takes mpi.c's bprt_trainer_main
 * (data-parallel over MPI), and this object is then never pulled from the archive.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bprt.h"

int bprt_trainer_main(const bprt_trainer *t, int argc, char **argv)
{
    /* Started by mpirun as one of several copies, each would train on all the data and
     * write the same files: say why. */
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    if (!size)
        size = getenv("PMI_SIZE");
    if (size && atoi(size) > 1)
        fprintf(stderr,
                "%s: warning: one of %s processes, but built without the MPI runtime: each "
                "trains alone (link build/libbprt_mpi.a before libbprt.a; docs/DISTRIBUTED.md)\n",
                argc > 0 && argv[0] ? argv[0] : t->name, size);
    return bprt_trainer_run(t, NULL, argc, argv);
}

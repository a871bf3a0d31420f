/*
 * hpcjob-ring: a small MPI program for checking a job image and an HPCJob end to end.
 *
 *   hpcjob-ring [--sleep SECONDS] [--print-env NAME[,NAME...]] [--fail-rank R [--exit-code C]]
 *
 * Every rank says where it runs, optionally prints environment variables and sleeps, then a token travels once
 * around the ring of ranks (rank 0 -> 1 -> ... -> N-1 -> 0), each rank adding its number to it. Rank 0 reports
 * how many ranks the token visited and the sum of their ranks, which must be N and N*(N-1)/2.
 * With --fail-rank, that rank then leaves with exit(C), so that tests can check the exit code mpirun (and the
 * launcher pod) reports: C with Open MPI 4, Open MPI 5 and MPICH alike (see the end of main).
 * Every line goes out at once (flushed), so a test sees it even if the job is killed right after.
 */
#include <errno.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PREFIX "hpcjob-ring: "
#define TOKEN_TAG 42

struct options {
    double sleep_seconds;
    const char *env_names; /* comma-separated, or NULL */
    int fail_rank;         /* -1: none */
    int exit_code;
};

static int rank, size;
static char host[256];

/*
 * One line on stdout in a single write(): mpirun forwards output as it comes, a killed rank loses what it buffered,
 * and an MPI library may leave stdout unbuffered, where a line written in pieces interleaves with another rank's.
 */
static void say(const char *fmt, ...)
{
    char line[1024];
    size_t prefix = strlen(PREFIX);
    memcpy(line, PREFIX, prefix);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + prefix, sizeof line - prefix - 1, fmt, ap);
    va_end(ap);
    size_t len = prefix + (n < 0 ? 0 : (size_t)n < sizeof line - prefix - 1 ? (size_t)n : sizeof line - prefix - 2);
    line[len++] = '\n';
    fflush(stdout);
    for (size_t done = 0; done < len;) {
        ssize_t w = write(STDOUT_FILENO, line + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
}

static void usage(FILE *to)
{
    fprintf(to, "usage: hpcjob-ring [--sleep SECONDS] [--print-env NAME[,NAME...]] "
                "[--fail-rank R [--exit-code C]]\n");
}

/* A whole number in [min, max], or -1 when the text is not one. */
static long parse_long(const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return -1;
    return v;
}

/* 0 on success; every rank parses the same arguments, so all of them agree on an error. */
static int parse_options(int argc, char **argv, struct options *o)
{
    o->sleep_seconds = 0;
    o->env_names = NULL;
    o->fail_rank = -1;
    o->exit_code = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            if (rank == 0)
                usage(stdout);
            return 1;
        }
        if (value == NULL) {
            if (rank == 0)
                fprintf(stderr, PREFIX "%s needs a value\n", arg);
            return 2;
        }
        if (strcmp(arg, "--sleep") == 0) {
            char *end;
            o->sleep_seconds = strtod(value, &end);
            if (end == value || *end != '\0' || o->sleep_seconds < 0)
                goto bad_value;
        } else if (strcmp(arg, "--print-env") == 0) {
            o->env_names = value;
        } else if (strcmp(arg, "--fail-rank") == 0) {
            if ((o->fail_rank = (int)parse_long(value, 0, 1 << 30)) < 0)
                goto bad_value;
        } else if (strcmp(arg, "--exit-code") == 0) {
            /* 0 would be no failure at all; above 255 the shell would see it modulo 256. */
            if ((o->exit_code = (int)parse_long(value, 1, 255)) < 0)
                goto bad_value;
        } else {
            if (rank == 0) {
                fprintf(stderr, PREFIX "unknown option %s\n", arg);
                usage(stderr);
            }
            return 2;
        }
        i++;
        continue;
    bad_value:
        if (rank == 0)
            fprintf(stderr, PREFIX "bad value for %s: %s\n", arg, value);
        return 2;
    }
    return 0;
}

static void print_env(const char *names)
{
    char *copy = strdup(names);
    if (copy == NULL)
        return;
    for (char *save = NULL, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        const char *value = getenv(name);
        if (value)
            say("rank %d on %s env %s=%s", rank, host, name, value);
        else
            say("rank %d on %s env %s unset", rank, host, name);
    }
    free(copy);
}

static void sleep_for(double seconds)
{
    struct timespec left = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    /* A signal that the rank survives (e.g. SIGCHLD) must not cut the sleep short. */
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* The token: how many ranks it visited and the sum of their ranks. Returns 0 when rank 0 finds it right. */
static int pass_token(void)
{
    long long token[2] = {0, 0};
    int next = (rank + 1) % size, prev = (rank + size - 1) % size;
    if (rank == 0) {
        token[0] = 1;
        if (size > 1) {
            MPI_Send(token, 2, MPI_LONG_LONG, next, TOKEN_TAG, MPI_COMM_WORLD);
            MPI_Recv(token, 2, MPI_LONG_LONG, prev, TOKEN_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
        long long want = (long long)size * (size - 1) / 2;
        say("token passed %lld ranks, sum %lld", token[0], token[1]);
        if (token[0] != size || token[1] != want) {
            fprintf(stderr, PREFIX "wrong token: expected %d ranks, sum %lld\n", size, want);
            return 1;
        }
        return 0;
    }
    MPI_Recv(token, 2, MPI_LONG_LONG, prev, TOKEN_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    token[0] += 1;
    token[1] += rank;
    MPI_Send(token, 2, MPI_LONG_LONG, next, TOKEN_TAG, MPI_COMM_WORLD);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (gethostname(host, sizeof host - 1) != 0)
        strcpy(host, "unknown");

    int parsed = parse_options(argc, argv, &o);
    if (parsed != 0) {
        MPI_Finalize();
        return parsed == 1 ? 0 : 2;
    }

    say("rank %d of %d on %s", rank, size, host);
    if (o.env_names)
        print_env(o.env_names);
    if (o.sleep_seconds > 0)
        sleep_for(o.sleep_seconds);

    int wrong = pass_token();
    /* Rank 0 has printed the result before any rank may fail: a failing rank cannot cut that line off. */
    MPI_Barrier(MPI_COMM_WORLD);

    if (wrong) {
        /* A ring that lost or duplicated the token is a broken MPI: stop every rank with an error. */
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /*
     * The failing rank finalizes like the others and only then calls exit(C). Leaving without MPI_Finalize
     * is not portable: MPICH's Hydra then kills the other ranks (in MPI_Finalize) with SIGKILL and mpiexec
     * exits 9, while Open MPI 4 and 5 report C. After MPI_Finalize all three make mpirun exit with C.
     */
    MPI_Finalize();
    if (rank == o.fail_rank) {
        say("rank %d on %s exiting with code %d", rank, host, o.exit_code);
        exit(o.exit_code);
    }
    return 0;
}

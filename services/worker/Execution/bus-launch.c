/*
 * bus-launch: starts one attempt of a shell job, contained, as the job user, and notes how it ended.
 *
 *   bus-launch EXIT_NOTE UID GID [CGROUP_PROCS_FILE...] -- [NAME=VALUE...] -- PROGRAM [ARGUMENT...]
 *
 * UID and GID are both "-" to run the job as the launcher's own user. The NAME=VALUE words are the job's environment.
 * The worker starts the launcher with an empty environment of its own (it runs as root until the job drops to the job
 * user: a job's LD_PRELOAD in the launcher's environment would run its code as root), the attempt's working directory,
 * its stdin a pipe from the worker and its stdout and stderr pipes to the worker. What each step is for, and why it
 * comes where it does, is told in JobSandbox.LauncherArguments; in order:
 *
 *  1. fork the watchdog, still outside the attempt's cgroups and process group: it reads the worker's pipe and kills
 *     the attempt's group unless the worker writes "over" first (a worker that dies closes the pipe without it);
 *  2. join the attempt's cgroups, so everything started from here on is contained;
 *  3. take /dev/null as stdin and start a session of its own, whose process group is the attempt's;
 *  4. fork the job, which drops to the job user (no supplementary groups, no_new_privs), takes the job's environment
 *     and execs the program;
 *  5. wait for the job, write its exit status to EXIT_NOTE, and exit with it (128 + the signal if it was killed).
 *
 * One program instead of the shells, setsid and setpriv it replaces: a job's launch was five execs, now it is two.
 * Its complaints start with "bus-launch: ", and the worker reads them (ShellExecutor).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* The exit code of a launch that went wrong before the job's program was reached. */
#define LAUNCH_FAILED 125

static const char over_line[] = "over\n";

static void complain(const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    fputs("bus-launch: ", stderr);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
}

extern char **environ;

/* The watchdog: anything but the worker's "over" line (end of file: the worker is gone) kills the attempt. */
static void watch(pid_t attempt)
{
    /* Its life is the pipe's: a Ctrl-C or a stop signal sent to the worker's process group must not end it early. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    char line[sizeof over_line - 1];
    size_t got = 0;
    while (got < sizeof line) {
        ssize_t n = read(STDIN_FILENO, line + got, sizeof line - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got == sizeof line && memcmp(line, over_line, sizeof line) == 0)
        _exit(0);
    /*
     * The launcher first, while it is still this process's parent (once it is gone, its pid may be another's): with a
     * kill pending it can no longer fork the job, so a job exists only if it was forked already, after the launcher's
     * setsid, and then it is in the attempt's group, which goes next.
     */
    if (getppid() == attempt)
        kill(attempt, SIGKILL);
    kill(-attempt, SIGKILL);
    _exit(0);
}

/* A user or group id in decimal; not -1, which to setresuid means "unchanged". */
static int parse_id(const char *text, unsigned long *id)
{
    char *end;
    if (text[0] < '0' || text[0] > '9')
        return 0;
    errno = 0;
    *id = strtoul(text, &end, 10);
    return errno == 0 && *end == '\0' && *id < (unsigned long)(uid_t)-1;
}

/* In the job's process, after the fork: the job user, the job's environment, then the program. Never returns. */
static void become_job(const char *uid_text, const char *gid_text, char **environment, char **command)
{
    if (strcmp(uid_text, "-") != 0) {
        unsigned long uid, gid;
        if (!parse_id(uid_text, &uid) || !parse_id(gid_text, &gid)) {
            complain("bad user or group id '%s' '%s'", uid_text, gid_text);
            _exit(LAUNCH_FAILED);
        }
        if (setgroups(0, NULL) != 0 || setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) {
            complain("cannot become group %lu: %s", gid, strerror(errno));
            _exit(LAUNCH_FAILED);
        }
        if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) {
            complain("cannot become user %lu: %s", uid, strerror(errno));
            _exit(LAUNCH_FAILED);
        }
    }
    /* No setuid or file-capability program can give the job back what it just dropped. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        complain("cannot set no_new_privs: %s", strerror(errno));
        _exit(LAUNCH_FAILED);
    }
    /* Nothing but the standard streams reaches the job (the worker's own descriptors are close-on-exec already). */
    close_range(STDERR_FILENO + 1, UINT_MAX, 0);
    /* execvp searches the job's PATH, not the launcher's (it has none). */
    environ = environment;
    execvp(command[0], command);
    int failure = errno;
    complain("failed to execute %s: %s", command[0], strerror(failure));
    _exit(failure == ENOENT ? 127 : 126);
}

static void write_exit_note(const char *path, int code)
{
    int note = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (note < 0 || dprintf(note, "%d\n", code) < 0)
        complain("cannot write the exit note %s: %s", path, strerror(errno));
    if (note >= 0)
        close(note);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        complain("usage: bus-launch EXIT_NOTE UID GID [CGROUP_PROCS_FILE...] -- [NAME=VALUE...] -- PROGRAM [ARGUMENT...]");
        return LAUNCH_FAILED;
    }
    const char *exit_note = argv[1], *uid_text = argv[2], *gid_text = argv[3];
    if ((strcmp(uid_text, "-") == 0) != (strcmp(gid_text, "-") == 0)) {
        complain("give both a user and a group id, or neither");
        return LAUNCH_FAILED;
    }
    pid_t self = getpid();

    pid_t watchdog = fork();
    if (watchdog < 0) {
        complain("cannot fork the watchdog: %s", strerror(errno));
        return LAUNCH_FAILED;
    }
    if (watchdog == 0) {
        /* It keeps only the worker's pipe: holding the output pipes would keep the worker reading after the job. */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            if (null > STDERR_FILENO)
                close(null);
        }
        watch(self);
    }

    char pid_line[24];
    int pid_length = snprintf(pid_line, sizeof pid_line, "%d\n", (int)self);
    int i = 4;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        int procs = open(argv[i], O_WRONLY | O_CLOEXEC);
        if (procs < 0 || write(procs, pid_line, (size_t)pid_length) != pid_length) {
            complain("cannot join %s: %s", argv[i], strerror(errno));
            return LAUNCH_FAILED;
        }
        close(procs);
    }
    if (i >= argc) {
        complain("no -- after the cgroup files");
        return LAUNCH_FAILED;
    }
    /* The job's environment: NAME=VALUE words up to the second "--" (a word with '=' is never "--"). */
    char **environment = argv + i + 1;
    int j = i + 1;
    while (j < argc && strcmp(argv[j], "--") != 0)
        j++;
    if (j + 1 >= argc) {
        complain("no program to run after the environment's --");
        return LAUNCH_FAILED;
    }
    argv[j] = NULL; /* ends the environment */
    char **command = argv + j + 1;

    /* Neither this process nor the job may read or hold the worker's pipe: that is the watchdog's alone. */
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0) {
        complain("cannot open /dev/null: %s", strerror(errno));
        return LAUNCH_FAILED;
    }
    if (null != STDIN_FILENO)
        close(null);
    if (setsid() < 0) {
        complain("cannot start a session: %s", strerror(errno));
        return LAUNCH_FAILED;
    }

    pid_t job = fork();
    if (job < 0) {
        complain("cannot fork the job: %s", strerror(errno));
        return LAUNCH_FAILED;
    }
    if (job == 0)
        become_job(uid_text, gid_text, environment, command);

    int status;
    while (waitpid(job, &status, 0) < 0) {
        if (errno != EINTR) {
            complain("cannot wait for the job: %s", strerror(errno));
            return LAUNCH_FAILED;
        }
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    write_exit_note(exit_note, code);
    return code;
}

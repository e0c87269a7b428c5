/*
 * bus-launch: starts one attempt of a shell job, contained, as the job user, and notes how it ended.
 *
 *   bus-launch EXIT_NOTE UID GID [CGROUP_PROCS_FILE...] -- PROGRAM [ARGUMENT...]
 *
 * UID and GID are "-" to run the job as the launcher's own user. The worker starts it with the attempt's environment
 * and working directory, its stdin a pipe from the worker and its stdout and stderr pipes to the worker. What each step
 * is for, and why it comes where it does, is told in JobSandbox.LauncherArguments; in order:
 *
 *  1. fork the watchdog, still outside the attempt's cgroups and process group: it reads the worker's pipe and kills
 *     the attempt's group unless the worker writes "over" first (a worker that dies closes the pipe without it);
 *  2. join the attempt's cgroups, so everything started from here on is contained;
 *  3. take /dev/null as stdin and start a session of its own, whose process group is the attempt's;
 *  4. fork the job, which drops to the job user (no supplementary groups, no_new_privs) and execs the program;
 *  5. wait for the job, write its exit status to EXIT_NOTE, and exit with it (128 + the signal if it was killed).
 *
 * One program instead of the shells, setsid and setpriv it replaces: a job's launch was five execs, now it is two.
 * Its complaints start with "bus-launch: ", and the worker reads them (ShellExecutor).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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

/* The watchdog: anything but the worker's "over" line (end of file: the worker is gone) kills the attempt. */
static void watch(pid_t attempt)
{
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
    /* The group once the launcher has its session; the launcher itself if it has not got there yet. */
    kill(-attempt, SIGKILL);
    kill(attempt, SIGKILL);
    _exit(0);
}

static int parse_id(const char *text, unsigned long *id)
{
    char *end;
    errno = 0;
    *id = strtoul(text, &end, 10);
    return errno == 0 && end != text && *end == '\0';
}

/* In the job's process, after the fork: the job user, then the program. Never returns. */
static void become_job(const char *uid_text, const char *gid_text, char **command)
{
    unsigned long uid, gid;
    if (strcmp(gid_text, "-") != 0) {
        if (!parse_id(gid_text, &gid)) {
            complain("bad group id '%s'", gid_text);
            _exit(LAUNCH_FAILED);
        }
        if (setgroups(0, NULL) != 0 || setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) {
            complain("cannot become group %lu: %s", gid, strerror(errno));
            _exit(LAUNCH_FAILED);
        }
    }
    if (strcmp(uid_text, "-") != 0) {
        if (!parse_id(uid_text, &uid)) {
            complain("bad user id '%s'", uid_text);
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
        complain("usage: bus-launch EXIT_NOTE UID GID [CGROUP_PROCS_FILE...] -- PROGRAM [ARGUMENT...]");
        return LAUNCH_FAILED;
    }
    const char *exit_note = argv[1], *uid_text = argv[2], *gid_text = argv[3];
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
    if (i + 1 >= argc) {
        complain("no program to run after --");
        return LAUNCH_FAILED;
    }
    char **command = argv + i + 1;

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
        become_job(uid_text, gid_text, command);

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

using System.Runtime.InteropServices;

namespace Bus.Worker.Execution;

/// <summary>The few libc calls .NET has no API for: signalling a process group, and giving a folder to the job user.</summary>
internal static class Native
{
    public const int SigKill = 9;
    const int NoSuchProcess = 3; // ESRCH

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    static extern int Chown(string path, uint owner, uint group);

    [DllImport("libc", EntryPoint = "geteuid")]
    public static extern uint EffectiveUserId();

    /// <summary>Sends a signal; false when no such process (or group) exists.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0 || Marshal.GetLastPInvokeError() != NoSuchProcess;

    /// <summary>Whether any process of the group led by <paramref name="groupId"/> is left.</summary>
    public static bool GroupAlive(int groupId) => Signal(-groupId, 0);

    public static void ChangeOwner(string path, uint uid, uint gid)
    {
        if (Chown(path, uid, gid) != 0)
            throw new IOException($"chown {path} to {uid}:{gid} failed: errno {Marshal.GetLastPInvokeError()}");
    }
}

namespace Bus.Cli;

/// <summary>
/// What the process exit code means. <c>submit --wait</c> exits with the job's own code when it has one, so a
/// script can use the CLI like the command itself; the other codes sit where few programs exit on their own.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command line was wrong (System.CommandLine's own code for a parse error).</summary>
    public const int Usage = 1;

    /// <summary>The API refused the call or could not be reached; the message says why.</summary>
    public const int ApiError = 2;

    /// <summary>The job failed without an exit code of its own (lost, refused, killed).</summary>
    public const int JobFailed = 1;

    /// <summary>The job ran past its timeoutSeconds, as timeout(1) reports it.</summary>
    public const int JobTimedOut = 124;

    /// <summary>The job was cancelled.</summary>
    public const int JobCancelled = 125;
}

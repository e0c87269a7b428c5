namespace Bus.Contracts;

/// <summary>Why an attempt was stopped before it ended by itself.</summary>
public enum StopReason
{
    /// <summary>A user cancelled the job.</summary>
    Cancelled,
    /// <summary>The attempt ran past the job's timeoutSeconds.</summary>
    TimedOut,
    /// <summary>The worker is shutting down and hands the attempt back to be run again elsewhere.</summary>
    HandedBack,
}

using MassTransit;

namespace Bus.Scheduler.StateMachines;

/// <summary>
/// One job's saga, one row of the <c>jobs</c> table. The gateway reads this row to answer
/// <c>GET /api/v1/jobs/{id}</c>, so every field a user sees lives here.
/// </summary>
public class JobState : SagaStateMachineInstance, ISagaVersion
{
    /// <summary>The job id.</summary>
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "";
    /// <summary>Optimistic concurrency token, bumped by every write.</summary>
    public int Version { get; set; }

    public string Tenant { get; set; } = "";
    public string RequestId { get; set; } = "";
    public string Service { get; set; } = "";
    public string[] Command { get; set; } = [];
    public string? PayloadJson { get; set; }
    /// <summary>The variables the job asked for in its environment, as a JSON object; null when none.</summary>
    public string? EnvironmentJson { get; set; }
    public int Cpus { get; set; }
    public int MemoryMb { get; set; }
    public int Gpus { get; set; }
    public string? Language { get; set; }
    public string? Pool { get; set; }
    public string? ExcludeWorker { get; set; }
    public string? AffinityKey { get; set; }
    public int Priority { get; set; }
    public int TimeoutSeconds { get; set; }
    public int MaxAttempts { get; set; }

    /// <summary>The current attempt, starting at 1. Also the fencing token of its reservation.</summary>
    public int Attempt { get; set; }
    /// <summary>Failed attempts so far, counted against <see cref="MaxAttempts"/>. Handed-back attempts do not count.</summary>
    public int Failures { get; set; }
    /// <summary>A retried attempt is not placed before this time (backoff).</summary>
    public DateTimeOffset? NotBefore { get; set; }
    /// <summary>Set when a user cancelled the job while a worker held it; Cancelled follows the worker's report.</summary>
    public DateTimeOffset? CancelRequestedAt { get; set; }
    public string? WorkerId { get; set; }
    /// <summary>Why a pending job is not running yet, in words a user understands.</summary>
    public string? PendingReason { get; set; }
    /// <summary>The code of <see cref="PendingReason"/>, from a closed set; stored by name.</summary>
    public Bus.Contracts.PendingReasonCode? PendingReasonCode { get; set; }
    public int? ExitCode { get; set; }
    public string? Output { get; set; }
    public string? Error { get; set; }
    /// <summary>The completing attempt's structured result (a model server's JSON answer); null otherwise.</summary>
    public string? ResultJson { get; set; }

    public DateTimeOffset SubmittedAt { get; set; }
    public DateTimeOffset? AllocatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>State changes made while handling the current message, not stored yet: the saga's write stores them
    /// with the row (<c>job_transitions</c>). Not a column.</summary>
    public List<Data.JobTransition> NewTransitions { get; } = [];

    /// <summary>Allocation rows the current message released, not marked yet: the saga's write marks them in its own
    /// transaction, so the release commits or rolls back with the end it belongs to. Not a column.</summary>
    public List<Bus.Capacity.Ledger.AllocationRelease> NewReleases { get; } = [];
}

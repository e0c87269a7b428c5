namespace Bus.Contracts;

/// <summary>A worker joined (or rejoined) the cluster and can take jobs.</summary>
public record WorkerRegistered(
    string WorkerId,
    ResourceVector Capacity,
    int MaxConcurrentJobs,
    string[] Services,
    string[] Languages,
    DateTimeOffset RegisteredAt);

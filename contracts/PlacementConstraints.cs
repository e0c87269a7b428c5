namespace Bus.Contracts;

/// <summary>Where a job may run, beyond having the free resources.</summary>
/// <param name="Language">A language the worker must offer for the service, e.g. <c>zh-en</c>.</param>
/// <param name="Pool">A preferred worker pool.</param>
/// <param name="ExcludeWorker">A worker the job must not run on.</param>
/// <param name="AffinityKey">Jobs with the same key prefer the worker that served the key last.</param>
public record PlacementConstraints(string? Language, string? Pool, string? ExcludeWorker, string? AffinityKey);

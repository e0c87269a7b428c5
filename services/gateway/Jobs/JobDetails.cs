using Bus.Persistence.Jobs;

namespace Bus.Gateway.Jobs;

/// <summary>The answer to a submission.</summary>
public sealed record JobAccepted(Guid JobId, string State);

/// <summary>One page of <c>GET /api/v1/jobs</c>; <c>nextCursor</c> is null on the last page.</summary>
public sealed record JobPage(IReadOnlyList<JobDetails> Jobs, string? NextCursor);

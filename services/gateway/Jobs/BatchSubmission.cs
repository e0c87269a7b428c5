using Bus.Persistence.Submissions;

namespace Bus.Gateway.Jobs;

/// <summary>The body of <c>POST /api/v1/jobs:batch</c>: up to <see cref="BatchSubmission.MaxJobs"/> submissions,
/// each the body of a single <c>POST /api/v1/jobs</c> with its own requestId.</summary>
public sealed record SubmitBatchRequest(SubmitJobRequest?[]? Jobs);

/// <summary>The answer to an array submission: one entry per submitted element, in the order they were sent.</summary>
public sealed record BatchAccepted(IReadOnlyList<BatchJobAnswer> Jobs, int Accepted, int AlreadyAccepted, int Refused);

/// <summary>
/// What became of one element: <see cref="BatchSubmission.Accepted"/> (a new job), <see cref="BatchSubmission.AlreadyAccepted"/>
/// (its requestId named this job already, with the same body) or <see cref="BatchSubmission.Refused"/> (with the
/// <see cref="Problem"/> a single submission of it would have answered; no job is made of it).
/// </summary>
public sealed record BatchJobAnswer(int Index, string RequestId, string Status, Guid? JobId, string? State, BatchJobProblem? Problem);

/// <summary>Why one element was refused: the status, title and detail a single submission of it would answer.</summary>
public sealed record BatchJobProblem(int Status, string Title, string Detail);

/// <summary>The limits and statuses of an array submission.</summary>
public static class BatchSubmission
{
    /// <summary>The most submissions one batch may hold; more is a 400 that refuses the whole batch.</summary>
    public const int MaxJobs = 1_000;

    public const string Accepted = "accepted";
    public const string AlreadyAccepted = "alreadyAccepted";
    public const string Refused = "refused";
}

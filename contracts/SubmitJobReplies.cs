namespace Bus.Contracts;

/// <summary>The scheduler's answer to a <see cref="SubmitJob"/> sent over the bus with a response address: the
/// submission is the job <see cref="JobId"/>.</summary>
/// <param name="Created">True for the first submission of this (tenant, requestId); false for a repeat of the same body,
/// which names the same job and changes nothing.</param>
public record SubmitJobAccepted(Guid JobId, string RequestId, bool Created);

/// <summary>The scheduler's refusal of a <see cref="SubmitJob"/> sent over the bus: nothing was stored.</summary>
/// <param name="JobId">The job that already holds this requestId, when it was used with a different body; else null.</param>
/// <param name="Reason">What is wrong, in words a user understands.</param>
/// <param name="Errors">Per field, as the HTTP API's 400 lists them (e.g. <c>resources.cpus</c>); empty when the
/// refusal is not about a field.</param>
public record SubmitJobRejected(Guid? JobId, string RequestId, string Reason, IReadOnlyDictionary<string, string[]> Errors);

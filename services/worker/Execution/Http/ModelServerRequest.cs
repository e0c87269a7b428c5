using System.Text.Json;

namespace Bus.Worker.Execution.Http;

/// <summary>
/// What the <c>http</c> executor POSTs to a model server for one attempt (docs/model-services.md). Nothing of the
/// worker's own identity or credentials: only the job's own data.
/// </summary>
/// <param name="Deadline">When the attempt will be stopped (its <c>timeoutSeconds</c> from now): work past it is wasted.</param>
/// <param name="Payload">The job's payload as submitted, or null.</param>
public sealed record ModelServerRequest(Guid JobId, int Attempt, string Service, string? Language, DateTimeOffset Deadline, JsonElement? Payload);

namespace Bus.Contracts;

/// <summary>The scheduler tells one worker to run one attempt of a job. Sent to the worker's own queue.</summary>
/// <param name="Attempt">The attempt number, also the fencing token: reports for another attempt are ignored.</param>
/// <param name="Environment">The variables the submission asked for; the worker adds them to the job's clean environment.</param>
/// <param name="Language">The language (or pair) the job asked for, if any: a model service picks its model by it.</param>
public record RunJob(
    Guid JobId,
    int Attempt,
    string WorkerId,
    string Service,
    string[] Command,
    string? PayloadJson,
    ResourceVector Resources,
    int TimeoutSeconds,
    IReadOnlyDictionary<string, string>? Environment = null,
    string? Language = null);

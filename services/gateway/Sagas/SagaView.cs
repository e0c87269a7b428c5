namespace Bus.Gateway.Sagas;

/// <summary>What <c>GET /api/v1/sagas/{jobId}</c> returns: a job's saga row as persisted, and every transition it made.</summary>
/// <param name="Columns">Every column of the <c>jobs</c> row, by its column name, with its stored value.</param>
/// <param name="History">Every state change, oldest first, as the scheduler stored it with the saga row.</param>
public sealed record SagaView(Guid JobId, IReadOnlyDictionary<string, object?> Columns, IReadOnlyList<SagaTransition> History);

/// <summary>One state change of a saga, a row of <c>job_transitions</c>.</summary>
/// <param name="Event">The state machine event that caused it.</param>
/// <param name="MessageId">The message that carried that event.</param>
public sealed record SagaTransition(
    string From, string To, string Event, int Attempt, string? WorkerId, string? Reason, int? ExitCode, string? Error,
    Guid? MessageId, DateTimeOffset At);

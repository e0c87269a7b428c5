namespace Bus.Gateway.Sagas;

/// <summary>What <c>GET /api/v1/sagas/{jobId}</c> returns: a job's saga row as persisted, and when it moved.</summary>
/// <param name="Columns">Every column of the <c>jobs</c> row, by its column name, with its stored value.</param>
/// <param name="History">The row's timestamps, oldest first.</param>
public sealed record SagaView(Guid JobId, IReadOnlyDictionary<string, object?> Columns, IReadOnlyList<SagaMoment> History);

/// <summary>One timestamp of a saga row.</summary>
/// <param name="Label">What happened then, named after the state it led to.</param>
/// <param name="Column">The column it was read from.</param>
public sealed record SagaMoment(string Label, string Column, DateTimeOffset At);

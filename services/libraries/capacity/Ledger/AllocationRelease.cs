namespace Bus.Capacity.Ledger;

/// <summary>
/// An attempt's allocation row to be marked released at <paramref name="At"/>, by the transaction of whoever records
/// the attempt's end (<see cref="DatabaseLedger.Release(Npgsql.NpgsqlConnection, Npgsql.NpgsqlTransaction, IEnumerable{AllocationRelease}, CancellationToken)"/>).
/// </summary>
public sealed record AllocationRelease(Guid JobId, int Attempt, DateTimeOffset At);

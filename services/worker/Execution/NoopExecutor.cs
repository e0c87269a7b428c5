using System.Text.Json;
using Bus.Contracts;

namespace Bus.Worker.Execution;

/// <summary>
/// The <c>noop</c> service: runs nothing, in-process, for tests and benchmarks. An optional payload
/// <c>{"durationMs": 250}</c> makes it take that long.
/// </summary>
public sealed class NoopExecutor : IJobExecutor
{
    public string Service => "noop";

    public async Task<ExecutionResult> Run(RunJob job, Func<int?, Task> started, CancellationToken stop)
    {
        await started(null);
        var duration = 0;
        if (job.PayloadJson is not null && JsonDocument.Parse(job.PayloadJson).RootElement is { ValueKind: JsonValueKind.Object } payload
            && payload.TryGetProperty("durationMs", out var value) && value.TryGetInt32(out var ms))
            duration = Math.Max(0, ms);
        try
        {
            await Task.Delay(duration, stop);
        }
        catch (OperationCanceledException)
        {
            return ExecutionResult.Stopped("");
        }
        return new ExecutionResult(0, "", null);
    }
}

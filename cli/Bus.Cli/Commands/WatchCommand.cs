using System.CommandLine;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;

namespace Bus.Cli.Commands;

/// <summary>
/// <c>watch [JOB]</c>: state changes as they happen, one line each, from the API's Server-Sent Events. With a job id
/// it starts with the job's current state and ends when the job does; without one it follows all of your jobs.
/// </summary>
public static class WatchCommand
{
    public static Command Create()
    {
        var jobId = new Argument<Guid?>("job-id") { Description = "One job to follow; leave out to follow all of your jobs.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("watch", "Follow state changes live: one job until it ends, or all of your jobs.") { jobId };
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            var id = parseResult.GetValue(jobId);
            var json = parseResult.GetValue(CliCommand.JsonOutput);
            await using var stream = await api.Stream(id is { } job ? $"/api/v1/jobs/{job}/events" : "/api/v1/events", cancellationToken);
            await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
            {
                if (item.EventType == "end")
                    break;
                Console.Out.WriteLine(json ? item.Data : Line(JsonNode.Parse(item.Data)!));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>"10:06:31 01a23111-… Running -> Pending  attempt 2  worker-a  attempt 1 failed (...)".</summary>
    static string Line(JsonNode e)
    {
        var at = DateTimeOffset.TryParse((string?)e["at"], out var time) ? time.ToUniversalTime().ToString("HH:mm:ss") : "";
        var move = (string?)e["previousState"] is { } from ? $"{from} -> {e["state"]}" : $"{e["state"]}";
        var why = (string?)e["error"] ?? (string?)e["reason"];
        return string.Join("  ", new[] { at, (string?)e["jobId"], move, $"attempt {e["attempt"]}", (string?)e["workerId"], why }
            .Where(part => !string.IsNullOrEmpty(part)));
    }
}

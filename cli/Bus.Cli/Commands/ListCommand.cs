using System.CommandLine;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary><c>list</c>, like squeue: the tenant's jobs, newest first, with state and why a job still waits.</summary>
public static class ListCommand
{
    public static Command Create()
    {
        var state = new Option<string?>("--state") { Description = "Only jobs in this state (Pending, Running, Completed, ...)." };
        var service = new Option<string?>("--service") { Description = "Only jobs for this service." };
        var limit = new Option<int>("--limit") { Description = "At most this many jobs (1 to 500).", DefaultValueFactory = _ => 50 };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after a previous page (its nextCursor)." };
        var reasonCode = new Option<string?>("--reason-code") { Description = "Only pending jobs waiting for this reason (Resources, NoWorkerForService, Backoff, ...)." };
        var command = new Command("list", "List your jobs, newest first, with state and pending reason.") { state, service, limit, cursor, reasonCode };
        command.Handle(async (parseResult, api, cancellationToken) =>
        {
            var query = new List<string> { $"limit={parseResult.GetValue(limit)}" };
            if (parseResult.GetValue(state) is { } s) query.Add($"state={Uri.EscapeDataString(s)}");
            if (parseResult.GetValue(service) is { } v) query.Add($"service={Uri.EscapeDataString(v)}");
            if (parseResult.GetValue(cursor) is { } c) query.Add($"cursor={Uri.EscapeDataString(c)}");
            if (parseResult.GetValue(reasonCode) is { } r) query.Add($"pendingReasonCode={Uri.EscapeDataString(r)}");
            var page = await api.Get($"/api/v1/jobs?{string.Join('&', query)}", cancellationToken);
            parseResult.Show(page, Render);
            return ExitCodes.Ok;
        });
        return command;
    }

    static void Render(JsonNode page)
    {
        var table = CliCommand.NewTable("JOBID", "REQUEST", "STATE", "SERVICE", "CPUS", "PRI", "TRY", "WORKER", "SUBMITTED", "CODE", "REASON");
        foreach (var job in page["jobs"]?.AsArray() ?? [])
            table.AddRow(
                CliCommand.Cell(job?["jobId"]), CliCommand.Cell(job?["requestId"]), CliCommand.Cell(job?["state"]),
                CliCommand.Cell(job?["service"]), CliCommand.Cell(job?["resources"]?["cpus"]), CliCommand.Cell(job?["priority"]),
                new Text($"{job?["attempt"]}/{job?["maxAttempts"]}"), CliCommand.Cell(job?["workerId"]),
                new Text(ShortTime(job?["submittedAt"])), CliCommand.Cell(job?["pendingReasonCode"]),
                CliCommand.Cell(job?["pendingReason"] ?? job?["error"]));
        AnsiConsole.Write(table);
        if ((string?)page["nextCursor"] is { } next)
            AnsiConsole.Write(new Text($"more: --cursor {next}\n"));
    }

    static string ShortTime(JsonNode? value) =>
        DateTimeOffset.TryParse((string?)value, out var time) ? time.ToUniversalTime().ToString("MM-dd HH:mm:ss") : "";
}

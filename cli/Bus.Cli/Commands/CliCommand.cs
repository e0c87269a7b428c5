using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Bus.Cli.Commands;

/// <summary>What every command shares: the <c>--json</c> switch, the API client, and one way to report failure.</summary>
public static class CliCommand
{
    /// <summary>Print the API's JSON answer instead of a table, for scripts and <c>jq</c>.</summary>
    public static readonly Option<bool> JsonOutput = new("--json")
    {
        Description = "Print the API's JSON answer instead of a table.",
        Recursive = true,
    };

    /// <summary>Runs <paramref name="body"/> with an API client; an API failure becomes one line on stderr and exit code 2.</summary>
    public static void Handle(this Command command, Func<ParseResult, Api, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                using var api = new Api(CliSettings.Load());
                return await body(parseResult, api, cancellationToken);
            }
            catch (CliException e)
            {
                Console.Error.WriteLine($"bus: {e.Message}");
                return ExitCodes.ApiError;
            }
        });

    /// <summary>The JSON itself with <c>--json</c>, else what <paramref name="render"/> draws.</summary>
    public static void Show(this ParseResult parseResult, JsonNode answer, Action<JsonNode> render)
    {
        if (parseResult.GetValue(JsonOutput))
            Console.Out.WriteLine(answer.ToJsonString(Indented));
        else
            render(answer);
    }

    static readonly JsonSerializerOptions Indented = new(Api.Json) { WriteIndented = true };

    /// <summary>A table cell from untrusted text: never parsed as Spectre markup.</summary>
    public static Text Cell(JsonNode? value) => new(value switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray a => string.Join(",", a.Select(x => x?.ToString())),
        _ => value.ToJsonString(),
    });

    /// <summary>How long ago an ISO time was, the way a person reads a heartbeat: "3s ago".</summary>
    public static Text Age(JsonNode? value) =>
        DateTimeOffset.TryParse((string?)value, out var time)
            ? new Text($"{Math.Max(0, (DateTimeOffset.UtcNow - time).TotalSeconds):0}s ago")
            : new Text("");

    public static Table NewTable(params string[] columns)
    {
        // No border, like squeue and sinfo: rows stay easy to grep and cut.
        var table = new Table().Border(TableBorder.None);
        foreach (var column in columns)
            table.AddColumn(new TableColumn(new Text(column)) { NoWrap = true });
        return table;
    }
}

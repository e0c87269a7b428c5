namespace Bus.Samples.BusClient;

/// <summary>The sample's command line: a few options, then the job's argv after <c>--</c>.</summary>
public sealed record ClientArguments(string Tenant, string RequestId, int Cpus, TimeSpan Wait, string[] Command)
{
    const string Usage = "usage: bus-client [--tenant T] [--request-id ID] [--cpus N] [--wait-seconds S] -- PROGRAM [ARGS...]";

    public static bool TryParse(string[] args, out ClientArguments parsed, out string usage)
    {
        usage = Usage;
        parsed = new ClientArguments("dev", $"bus-client-{Guid.NewGuid():N}", 1, TimeSpan.FromMinutes(10), []);
        var separator = Array.IndexOf(args, "--");
        if (separator < 0 || separator == args.Length - 1)
            return false;
        for (var i = 0; i + 1 < separator; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--tenant": parsed = parsed with { Tenant = value }; break;
                case "--request-id": parsed = parsed with { RequestId = value }; break;
                case "--cpus" when int.TryParse(value, out var cpus): parsed = parsed with { Cpus = cpus }; break;
                case "--wait-seconds" when int.TryParse(value, out var seconds) && seconds > 0:
                    parsed = parsed with { Wait = TimeSpan.FromSeconds(seconds) }; break;
                default: return false;
            }
        }
        if (separator % 2 != 0)
            return false;
        parsed = parsed with { Command = args[(separator + 1)..] };
        return true;
    }
}

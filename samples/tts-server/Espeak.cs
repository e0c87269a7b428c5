using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Bus.TtsServer;

/// <summary>
/// Runs espeak-ng: lists the languages it has voices for (once, at start), and synthesizes one text into a WAV file.
/// The text goes in on stdin, never on the command line, so no text can be taken for an option.
/// </summary>
public sealed partial class Espeak
{
    readonly TtsOptions _options;

    public Espeak(IOptions<TtsOptions> options)
    {
        _options = options.Value;
        var installed = InstalledLanguages(_options.EspeakPath);
        Languages = _options.Languages.Length == 0
            ? installed
            : _options.Languages.Where(installed.Contains).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Directory.CreateDirectory(_options.ResultsDirectory);
    }

    /// <summary>The languages served: espeak-ng's, or those of <see cref="TtsOptions.Languages"/> that it has.</summary>
    public IReadOnlySet<string> Languages { get; }

    /// <summary>
    /// Writes <paramref name="text"/> spoken in <paramref name="language"/> to <paramref name="path"/>. Cancelled (the
    /// client went away), it kills espeak-ng and leaves no file behind.
    /// </summary>
    public async Task Synthesize(string language, string text, string path, CancellationToken cancellationToken)
    {
        var partial = path + ".partial";
        using var process = new Process
        {
            StartInfo = new ProcessStartInfo(_options.EspeakPath, ["-v", language, "-w", partial, "--stdin"])
            {
                RedirectStandardInput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };
        process.Start();
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.StandardInput.WriteAsync(text.AsMemory(), cancellationToken);
            process.StandardInput.Close();
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            File.Delete(partial);
            throw;
        }
        if (process.ExitCode != 0)
        {
            File.Delete(partial);
            throw new InvalidOperationException($"espeak-ng exited with code {process.ExitCode}: {(await errors).Trim()}");
        }
        File.Move(partial, path, overwrite: true);
    }

    /// <summary>Every language code of <c>espeak-ng --voices</c>: each voice's own, and the others it lists, e.g. "(zh 5)".</summary>
    static HashSet<string> InstalledLanguages(string espeak)
    {
        using var process = Process.Start(new ProcessStartInfo(espeak, ["--voices"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var listing = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var languages = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in listing.Split('\n').Skip(1))
        {
            var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length < 2)
                continue;
            languages.Add(columns[1]);
            foreach (Match other in OtherLanguage().Matches(line))
                languages.Add(other.Groups[1].Value);
        }
        return languages;
    }

    [GeneratedRegex(@"\(([A-Za-z0-9-]+) \d+\)")]
    private static partial Regex OtherLanguage();
}

using System.Collections.Concurrent;
using System.Text.Json;
using Bus.Contracts;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Journal;

/// <summary>What this worker knows of one attempt it was given.</summary>
public enum AttemptRecord
{
    /// <summary>Started here; no end yet.</summary>
    Running,
    /// <summary>Ended here; its final report is written but the broker has not confirmed it yet.</summary>
    Reported,
    /// <summary>Ended here and its final report confirmed by the broker.</summary>
    Confirmed,
    /// <summary>Never run here, and never will be: the worker told the scheduler so (see <see cref="AttemptJournal.Disown"/>).</summary>
    Disowned,
}

/// <summary>How an attempt's process exited, as it noted itself: its exit status and the time of the note.</summary>
public sealed record ExitNote(int Status, DateTimeOffset At);

/// <summary>
/// The attempts this worker has started, ended or disowned, kept as one small file per attempt in
/// <see cref="WorkerOptions.StateDirectory"/>, so they survive a restart of the worker. It makes each attempt's
/// effects happen once: a RunJob for an attempt recorded here is never run again (a redelivery, or the start lease
/// sending it again), and a final report not yet confirmed is sent again after a restart. The state is the file's
/// extension, so moving an attempt on is one rename. Attempts that ended longer than
/// <see cref="WorkerOptions.JournalRetention"/> ago are forgotten, so neither the folder nor the index grows for ever.
/// </summary>
public sealed class AttemptJournal
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    static readonly Dictionary<string, AttemptRecord> Extensions = new()
    {
        [".running"] = AttemptRecord.Running,
        [".report"] = AttemptRecord.Reported,
        [".done"] = AttemptRecord.Confirmed,
        [".disowned"] = AttemptRecord.Disowned,
    };
    const string ExitNoteExtension = ".exit";

    readonly string _folder;
    readonly TimeSpan _retention;
    readonly TimeProvider _clock;
    readonly ConcurrentDictionary<(Guid JobId, int Attempt), Entry> _entries = new();
    readonly Lock _lock = new();

    sealed record Entry(AttemptRecord State, DateTimeOffset At);

    public AttemptJournal(IOptions<WorkerOptions> options, TimeProvider clock)
    {
        _folder = options.Value.StateDirectory;
        _retention = options.Value.JournalRetention;
        _clock = clock;
        // The worker's alone: reports hold jobs' output, and a job must not forge another attempt's exit note.
        Directory.CreateDirectory(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var path in Directory.EnumerateFiles(_folder))
            if (Parse(path) is { } key && Extensions.TryGetValue(Path.GetExtension(path), out var state))
                _entries[key] = new Entry(state, File.GetLastWriteTimeUtc(path));
    }

    /// <summary>What is known of the attempt, or null when this worker never had it (or forgot it).</summary>
    public AttemptRecord? Find(Guid jobId, int attempt) => _entries.TryGetValue((jobId, attempt), out var e) ? e.State : null;

    /// <summary>Records the attempt as started, unless anything is known of it already. Returns whether it may run.</summary>
    public bool TryBegin(Guid jobId, int attempt)
    {
        lock (_lock)
        {
            if (_entries.ContainsKey((jobId, attempt)))
                return false;
            File.WriteAllBytes(PathOf(jobId, attempt, AttemptRecord.Running), []);
            _entries[(jobId, attempt)] = new Entry(AttemptRecord.Running, _clock.GetUtcNow());
            return true;
        }
    }

    /// <summary>Writes the attempt's final report before it is sent; it stays until the broker confirms it.</summary>
    public void Reported(Guid jobId, int attempt, object report)
    {
        lock (_lock)
        {
            var path = PathOf(jobId, attempt, AttemptRecord.Reported);
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(new StoredReport(report.GetType().Name, JsonSerializer.SerializeToElement(report, report.GetType(), Json)), Json));
            File.Move(temporary, path, overwrite: true);
            File.Delete(PathOf(jobId, attempt, AttemptRecord.Running));
            File.Delete(ExitNotePath(jobId, attempt)); // the report says more than the note did
            _entries[(jobId, attempt)] = new Entry(AttemptRecord.Reported, _clock.GetUtcNow());
        }
    }

    /// <summary>The broker confirmed the attempt's final report.</summary>
    public void Confirmed(Guid jobId, int attempt)
    {
        lock (_lock)
        {
            var from = PathOf(jobId, attempt, AttemptRecord.Reported);
            if (!File.Exists(from))
                return;
            File.Move(from, PathOf(jobId, attempt, AttemptRecord.Confirmed), overwrite: true);
            _entries[(jobId, attempt)] = new Entry(AttemptRecord.Confirmed, _clock.GetUtcNow());
        }
    }

    /// <summary>
    /// Records that the attempt will never run here, unless something is known of it already. Returns whether it was
    /// disowned now; only then may the worker tell the scheduler it lost the attempt, since no report of it can follow.
    /// </summary>
    public bool Disown(Guid jobId, int attempt)
    {
        lock (_lock)
        {
            if (_entries.ContainsKey((jobId, attempt)))
                return _entries[(jobId, attempt)].State == AttemptRecord.Disowned;
            File.WriteAllBytes(PathOf(jobId, attempt, AttemptRecord.Disowned), []);
            _entries[(jobId, attempt)] = new Entry(AttemptRecord.Disowned, _clock.GetUtcNow());
            return true;
        }
    }

    /// <summary>The final report written for the attempt, confirmed or not, or null.</summary>
    public object? Report(Guid jobId, int attempt)
    {
        foreach (var state in new[] { AttemptRecord.Reported, AttemptRecord.Confirmed })
        {
            try
            {
                var stored = JsonSerializer.Deserialize<StoredReport>(File.ReadAllText(PathOf(jobId, attempt, state)), Json)!;
                return stored.Type switch
                {
                    nameof(JobCompleted) => stored.Report.Deserialize<JobCompleted>(Json),
                    nameof(JobFailed) => stored.Report.Deserialize<JobFailed>(Json),
                    nameof(JobStopped) => stored.Report.Deserialize<JobStopped>(Json),
                    _ => null,
                };
            }
            catch (FileNotFoundException)
            {
            }
        }
        return null;
    }

    /// <summary>
    /// Where the attempt's process notes its exit status the moment it exits (see
    /// <see cref="Execution.JobSandbox.LauncherArguments"/>): a worker killed before it journaled the report leaves the
    /// note behind, and its next start reports the attempt's end from it.
    /// </summary>
    public string ExitNotePath(Guid jobId, int attempt) => Path.Combine(_folder, $"{jobId:N}.{attempt}{ExitNoteExtension}");

    /// <summary>The exit status the attempt's process noted, and when; null when it noted none (it never ended by itself).</summary>
    public ExitNote? ExitNoted(Guid jobId, int attempt)
    {
        var path = ExitNotePath(jobId, attempt);
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), out var status)
                ? new ExitNote(status, File.GetLastWriteTimeUtc(path))
                : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The attempts in the given state.</summary>
    public IReadOnlyList<(Guid JobId, int Attempt)> InState(AttemptRecord state) =>
        _entries.Where(e => e.Value.State == state).Select(e => e.Key).ToList();

    /// <summary>Forgets ended attempts older than the retention; returns how many.</summary>
    public int Prune()
    {
        var before = _clock.GetUtcNow() - _retention;
        var pruned = 0;
        foreach (var (key, entry) in _entries)
        {
            if (entry.State is not (AttemptRecord.Confirmed or AttemptRecord.Disowned) || entry.At >= before)
                continue;
            lock (_lock)
            {
                File.Delete(PathOf(key.JobId, key.Attempt, entry.State));
                File.Delete(ExitNotePath(key.JobId, key.Attempt));
                _entries.TryRemove(key, out _);
            }
            pruned++;
        }
        return pruned;
    }

    string PathOf(Guid jobId, int attempt, AttemptRecord state) =>
        Path.Combine(_folder, $"{jobId:N}.{attempt}{Extensions.First(e => e.Value == state).Key}");

    static (Guid, int)? Parse(string path)
    {
        var parts = Path.GetFileNameWithoutExtension(path).Split('.');
        return parts.Length == 2 && Guid.TryParseExact(parts[0], "N", out var jobId) && int.TryParse(parts[1], out var attempt)
            ? (jobId, attempt) : null;
    }

    sealed record StoredReport(string Type, JsonElement Report);
}

namespace Bus.TtsServer;

/// <summary>The sample speech server's settings. Bound from the <c>Tts</c> section (or <c>Tts__*</c> variables).</summary>
public sealed class TtsOptions
{
    public const string Section = "Tts";

    /// <summary>Where the WAV files go, one per attempt (<c>{jobId}-{attempt}.wav</c>). Default <c>$TMPDIR/bus-tts</c>.</summary>
    public string ResultsDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "bus-tts");

    /// <summary>
    /// The languages this server serves, as espeak-ng names them (<c>en</c>, <c>zh</c>, <c>de</c>, ...). A request for
    /// another is answered model-not-available. Default: every language espeak-ng has a voice for. Naming fewer stands
    /// in for a node that has only some models loaded.
    /// </summary>
    public string[] Languages { get; set; } = [];

    /// <summary>The language of a request that names none. Default <c>en</c>.</summary>
    public string DefaultLanguage { get; set; } = "en";

    /// <summary>WAV files up to this size are also answered inline, base64, as <c>audioBase64</c>. Default 32 KiB; 0 never.</summary>
    public int InlineAudioMaxBytes { get; set; } = 32 * 1024;

    /// <summary>The longest text one request may ask for, in characters. Default 5,000.</summary>
    public int MaxTextLength { get; set; } = 5000;

    /// <summary>The espeak-ng program. Default <c>espeak-ng</c>, from the PATH.</summary>
    public string EspeakPath { get; set; } = "espeak-ng";
}

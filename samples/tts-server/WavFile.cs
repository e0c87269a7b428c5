using System.Buffers.Binary;

namespace Bus.TtsServer;

/// <summary>What a RIFF/WAVE file's header says: its format and how much audio it holds.</summary>
public sealed record WavFile(int SampleRate, int Channels, int ByteRate, long DataBytes, long FileBytes)
{
    public double DurationSeconds => ByteRate == 0 ? 0 : (double)DataBytes / ByteRate;

    /// <summary>Reads the <c>fmt </c> and <c>data</c> chunks; throws when the file is not a WAVE file.</summary>
    public static WavFile Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var span = bytes.AsSpan();
        if (bytes.Length < 12 || !span[..4].SequenceEqual("RIFF"u8) || !span[8..12].SequenceEqual("WAVE"u8))
            throw new InvalidDataException($"{path} is not a RIFF/WAVE file");
        int? sampleRate = null, channels = null, byteRate = null;
        for (var at = 12; at + 8 <= bytes.Length;)
        {
            var id = span.Slice(at, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(at + 4, 4));
            if (id.SequenceEqual("fmt "u8) && at + 8 + 16 <= bytes.Length)
            {
                channels = BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(at + 10, 2));
                sampleRate = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(at + 12, 4));
                byteRate = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(at + 16, 4));
            }
            else if (id.SequenceEqual("data"u8) && sampleRate is not null)
                return new WavFile(sampleRate.Value, channels!.Value, byteRate!.Value, Math.Min(size, bytes.Length - at - 8), bytes.Length);
            at += 8 + (int)size + (int)(size & 1); // chunks are padded to an even size
        }
        throw new InvalidDataException($"{path} has no fmt and data chunks");
    }
}

using System;

namespace GraphGen.Execution;

/// <summary>A batch as the user passed it: floats, or byte pixels that are divided by 255. Lets the
/// generated code serve both overloads of TrainStep and Infer with one body.</summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public readonly ref struct BatchInput
{
    private readonly ReadOnlySpan<float> _floats;
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly bool _isBytes;

    /// <summary>Float inputs, used as they are.</summary>
    public BatchInput(ReadOnlySpan<float> inputs) { _floats = inputs; _bytes = default; _isBytes = false; }

    /// <summary>Byte pixels, each scaled by 1/255.</summary>
    public BatchInput(ReadOnlySpan<byte> pixels) { _floats = default; _bytes = pixels; _isBytes = true; }

    /// <summary>Values held.</summary>
    public int Length => _isBytes ? _bytes.Length : _floats.Length;

    /// <summary>Copies samples [first, first+count) to <paramref name="core"/>'s staging buffer, from
    /// which each chunk is packed by the thread that processes it. Returns false, having staged
    /// nothing, if a float input is NaN or ±∞.</summary>
    public bool Stage(NetworkCore core, int first, int count)
    {
        if ((uint)count > (uint)core.StagingSamples)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"at most {core.StagingSamples} samples can be staged at once");
        int features = core.InputSize;
        if (_isBytes)
        {
            _bytes.Slice(first * features, count * features).CopyTo(core.StagedBytes);
            core.StagedAsBytes = true;
            return true;
        }
        ReadOnlySpan<float> samples = _floats.Slice(first * features, count * features);
        if (!LaneLayout.AllFinite(samples)) return false;
        samples.CopyTo(core.StagedFloats);
        core.StagedAsBytes = false;
        return true;
    }

    /// <summary>Packs samples [first, first+count) into the lane layout. Returns false, having written
    /// nothing, if a float input is NaN or ±∞.</summary>
    public bool Pack(int first, int count, int features, int lanes, Span<float> destination, long chunkStride)
    {
        if (_isBytes)
        {
            LaneLayout.Pack(_bytes.Slice(first * features, count * features), 1f / 255f, count, features, lanes, destination, chunkStride);
            return true;
        }
        ReadOnlySpan<float> samples = _floats.Slice(first * features, count * features);
        if (!LaneLayout.AllFinite(samples)) return false;
        LaneLayout.Pack(samples, count, features, lanes, destination, chunkStride);
        return true;
    }
}

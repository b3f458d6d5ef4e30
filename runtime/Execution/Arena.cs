using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GraphGen.Execution;

/// <summary>
/// All activation and scratch memory of a network instance: one pinned float array whose usable
/// part starts on a 64-byte boundary, carved into regions whose offsets are multiples of 16 floats,
/// so every vector load of a lane group is aligned. Allocated once; a training step or an inference
/// call allocates nothing.
/// </summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public sealed class Arena
{
    private readonly float[] _data;
    private readonly int _origin;

    /// <summary>Largest arena, in floats: one .NET array, less the alignment slack.</summary>
    public static long MaxLength => Array.MaxLength - 32;

    /// <summary>Reserves <paramref name="length"/> floats (zero-initialized).</summary>
    public Arena(long length)
    {
        if (length < 0 || length > MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"an arena of {length:N0} floats is larger than one .NET array can hold ({MaxLength:N0})");
        _data = GC.AllocateArray<float>((int)length + 16, pinned: true);
        nint address;
        unsafe { address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data)); }
        _origin = (int)(((64 - (address & 63)) & 63) / sizeof(float));
        Length = length;
    }

    /// <summary>Usable floats.</summary>
    public long Length { get; }

    /// <summary>Reference to the first usable float (64-byte aligned).</summary>
    public ref float Origin => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_data), _origin);

    /// <summary>A span over <paramref name="length"/> floats at <paramref name="offset"/>.</summary>
    public Span<float> Slice(long offset, long length) => _data.AsSpan(_origin + checked((int)offset), checked((int)length));

    /// <summary>Rounds a size up to whole 64-byte lines (16 floats).</summary>
    public static long Align(long floats) => (floats + 15) & ~15L;
}

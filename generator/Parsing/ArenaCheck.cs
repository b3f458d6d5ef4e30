using System;
using System.Collections.Generic;
using System.Globalization;
using GraphGen.Generator.Model;
using GraphGen.Generator.Planning;

namespace GraphGen.Generator.Parsing;

/// <summary>
/// The activation memory (arena) a network needs at the default MaxBatch, from the same buffer
/// layout the emitter prints: each buffer takes Align(floats × lanes) per chunk (or Align(floats)
/// for a per-chunk one), and the arena is that per-chunk size times the chunks of the batch. The
/// arena is one float array, so it must fit in <see cref="MaxFloats"/>; the runtime checks the same
/// at construction (NetworkCore), and this check says it at compile time.
/// </summary>
internal static class ArenaCheck
{
    /// <summary>NetworkOptions.MaxBatch when not given (tested equal to the runtime's default).</summary>
    public const int DefaultMaxBatch = 256;

    /// <summary>Largest arena, in floats: Arena.MaxLength (Array.MaxLength − 32; tested equal).</summary>
    public const long MaxFloats = 2_147_483_559;

    /// <summary>Largest MaxBatch the runtime accepts.</summary>
    public const int MaxBatchLimit = 1 << 20;

    /// <summary>Lanes of each SIMD path, widest first, with the path's name.</summary>
    private static readonly (int Lanes, string Path)[] Paths = { (16, "Vector512"), (8, "Vector256"), (4, "Vector128"), (1, "Scalar") };

    /// <summary>Floats of one chunk of <paramref name="lanes"/> samples (GraphGenBuffers(1, lanes).Total).</summary>
    public static long PerChunk(IReadOnlyList<BufferInfo> buffers, int lanes)
    {
        long total = 0;
        foreach (var b in buffers) if (b.SharedWith is null) total += Align(b.PerLane ? (b.RegionFloats ?? b.Floats) * lanes : b.Floats);
        return total;
    }

    /// <summary>The warning's message arguments when the arena at the default MaxBatch is larger than
    /// one array on some SIMD path, else null.</summary>
    public static object[]? Check(NetworkModel model)
    {
        var buffers = Planner.Build(model).Buffers;
        long largestTotal = 0;
        long fitsEverywhere = MaxBatchLimit;
        foreach (var (lanes, path) in Paths)
        {
            long perChunk = PerChunk(buffers, lanes);
            largestTotal = Math.Max(largestTotal, perChunk * ((DefaultMaxBatch + lanes - 1) / lanes));
            long fits = Math.Min(MaxBatchLimit, MaxFloats / perChunk * lanes);
            if (fits == 0)
            {
                return Arguments(model, largestTotal, string.Format(CultureInfo.InvariantCulture,
                    "even MaxBatch = 1 does not fit on the {0} path, whose chunk of {1} samples needs {2:N0} floats; make the layers smaller or pass a narrower NetworkOptions.Simd",
                    path, lanes, perChunk));
            }
            fitsEverywhere = Math.Min(fitsEverywhere, fits);
        }
        if (largestTotal <= MaxFloats) return null;
        return Arguments(model, largestTotal, string.Format(CultureInfo.InvariantCulture,
            "set NetworkOptions.MaxBatch to {0} or less (the largest that fits on every SIMD path)", fitsEverywhere));
    }

    private static object[] Arguments(NetworkModel model, long total, string fix) =>
        new object[] { model.ClassName, total.ToString("N0", CultureInfo.InvariantCulture), DefaultMaxBatch, MaxFloats.ToString("N0", CultureInfo.InvariantCulture), fix };

    private static long Align(long floats) => (floats + 15) & ~15L;
}

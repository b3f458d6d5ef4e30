using System;
using System.IO;
using System.Linq;
using CsCheck;
using GraphGen.Data;
using Xunit;

namespace GraphGen.Tests.Data;

/// <summary>Whatever the bytes, reading fails only with a DataFormatException.</summary>
public sealed class IdxFuzzTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly byte[] PlainImages = IdxTests.Raw(0x803, [2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    private static readonly byte[] PlainLabels = IdxTests.Raw(0x801, [4], [0, 9, 1, 8]);
    private static readonly byte[][] Valid =
        [PlainImages, PlainLabels, IdxTests.Gzip(PlainImages), IdxTests.Gzip(PlainLabels)];

    // Reads the bytes both ways; any exception but DataFormatException escapes and fails the sample.
    private void ReadBoth(byte[] bytes)
    {
        // Sample runs on several threads, so each case gets its own file.
        string path = _dir.WriteBytes(Guid.NewGuid().ToString("N"), bytes);
        try
        {
            try { Idx.ReadImages(path); }
            catch (DataFormatException) { }
            try { Idx.ReadLabels(path); }
            catch (DataFormatException) { }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Random_bytes()
    {
        var header = Gen.OneOfConst(
            Array.Empty<byte>(),
            [0x1F, 0x8B],                       // pretend gzip
            [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0xFF], // a valid gzip header, random deflate data
            [0, 0, 8, 3],                      // image magic, random dimensions
            [0, 0, 8, 1]);                     // label magic, random count
        Gen.Select(header, Gen.Byte.Array[0, 48])
            .Select((h, tail) => h.Concat(tail).ToArray())
            .Sample(ReadBoth, iter: 3000);
    }

    private enum Edit { Flip, Set, Truncate, Insert, Append }

    [Fact]
    public void Mutations_of_valid_files()
    {
        var edit = Gen.Select(Gen.Enum<Edit>(), Gen.Int[0, 1000], Gen.Byte);
        Gen.Select(Gen.Int[0, Valid.Length - 1], edit.Array[1, 4])
            .Select((which, edits) => edits.Aggregate(Valid[which], Apply))
            .Sample(ReadBoth, iter: 3000);
    }

    private static byte[] Apply(byte[] bytes, (Edit Kind, int Where, byte Value) edit)
    {
        if (bytes.Length == 0)
            return [edit.Value];
        int i = edit.Where % bytes.Length;
        var copy = (byte[])bytes.Clone();
        switch (edit.Kind)
        {
            case Edit.Flip: copy[i] ^= (byte)(1 << (edit.Value & 7)); return copy;
            case Edit.Set: copy[i] = edit.Value; return copy;
            case Edit.Truncate: return bytes[..i];
            case Edit.Insert: return [.. bytes[..i], edit.Value, .. bytes[i..]];
            default: return [.. bytes, edit.Value];
        }
    }
}

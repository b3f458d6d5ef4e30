using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using GraphGen.Execution;
using GraphGen.Tests.Numerics;
using Xunit;

namespace GraphGen.Tests.Guarantees;

/// <summary>
/// The buffer plan lets gradient buffers whose lifetimes do not overlap share memory, which is only
/// right if no step reads a region before writing it in the same step (an occupant finds whatever the
/// previous one left there). This poisons the whole arena with NaN before every training step and
/// inference call and checks that the results are bit-identical to a network whose arena was not
/// touched; and that sharing really happens (the ResNet-style networks' arenas are smaller than the
/// sum of their buffers).
/// </summary>
public class BufferPlanTests
{
    public static IEnumerable<object[]> Cases =>
        from name in TestNets.All.Keys
        from simd in new[] { SimdPath.Scalar, SimdPath.Vector128, SimdPath.Auto }
        select new object[] { name, simd };

    [Theory]
    [MemberData(nameof(Cases))]
    public void NoStepReadsMemoryItDidNotWrite(string name, SimdPath simd)
    {
        using INetwork clean = TestNets.Create(name, simd, threads: 2);
        using INetwork poisoned = TestNets.Create(name, simd, threads: 2);
        Arena arena = ArenaOf(poisoned);
        foreach (int batch in new[] { 21, 7, 21 }) // 7 and 21 leave partial chunks on every vector width
        {
            var (x, labels) = TestNets.Batch(clean, batch, seed: 300 + batch);
            arena.Slice(0, arena.Length).Fill(float.NaN);
            StepResult a = clean.TrainStep(x, labels, 0.1f), b = poisoned.TrainStep(x, labels, 0.1f);
            Assert.True(a.IsFinite, $"{name}: the clean step is not finite");
            Assert.True(Bits.SameBits(a.LossSum, b.LossSum), $"{name}, batch {batch}: loss {b.LossSum:R} after poisoning vs {a.LossSum:R}");
            Bits.AssertIdentical(Bits.Snapshot(clean), Bits.Snapshot(poisoned), $"{name}, batch {batch}, {clean.Simd}: after a poisoned step");
        }
        var (images, _) = TestNets.Batch(clean, 13, seed: 99);
        float[] expected = new float[13 * clean.Classes], actual = new float[13 * clean.Classes];
        clean.Infer(images, expected);
        arena.Slice(0, arena.Length).Fill(float.NaN);
        poisoned.Infer(images, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Bits.SameBits(expected[i], actual[i]), $"{name}: logit {i} {actual[i]:R} after poisoning vs {expected[i]:R}");
    }

    [Theory]
    [InlineData("ResidualNet")]
    [InlineData("ConcatNet")]
    [InlineData("LeNet")]
    public void GradientBuffersShareMemory(string name)
    {
        using INetwork net = TestNets.Create(name, SimdPath.Scalar, threads: 1, maxBatch: 1);
        object buffers = Field(net, "_buf");
        var fields = buffers.GetType().GetFields().Where(f => f.FieldType == typeof(long)).ToDictionary(f => f.Name, f => (long)f.GetValue(buffers)!);
        long total = fields["Total"];
        // Each region: offset and stride (one chunk, so the stride is the region's size).
        var regions = fields.Keys.Where(k => k != "Total" && !k.EndsWith("Stride", StringComparison.Ordinal) && !k.EndsWith("Size", StringComparison.Ordinal)).ToList();
        long sumOfSizes = regions.Sum(r => fields[r + "Stride"]);
        var distinct = regions.Select(r => fields[r]).Distinct().Count();
        Assert.True(distinct < regions.Count, $"{name}: no two of {regions.Count} regions share an offset");
        Assert.True(total < sumOfSizes, $"{name}: arena {total} floats, the buffers alone {sumOfSizes}");
        // Regions that share an offset are gradient buffers (D…), never an activation the backward pass reads.
        foreach (var group in regions.GroupBy(r => fields[r]).Where(g => g.Count() > 1))
            Assert.All(group, r => Assert.Matches(@"^G\d+D(S|Z|X|P)$", r));
    }

    private static Arena ArenaOf(INetwork net) => (Arena)Field(net, "_arena");

    /// <summary>A private field of the generated network: the file class in the facade's one field
    /// (the test networks may derive from the facade).</summary>
    private static object Field(INetwork net, string name) => PrivateField(PrivateField(net, "_graphGen"), name);

    private static object PrivateField(object o, string name)
    {
        for (Type? t = o.GetType(); t is not null; t = t.BaseType)
            if (t.GetField(name, BindingFlags.NonPublic | BindingFlags.Instance) is { } f) return f.GetValue(o)!;
        throw new InvalidOperationException($"{o.GetType().Name} has no field {name}");
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Generator.Layers;
using GraphGen.Generator.Model;
using GraphGen.Generator.Planning;

namespace GraphGen.Generator.Emitting;

// The kernels: one set per group, with every size a literal. Each is a generic method over
// <TV, S> (vector type, vector operations); the JIT specializes it per SIMD path. A vector holds the
// same element of S.Lanes images, so each kernel reads like scalar code over one image, with
// register blocking: a block of outputs is accumulated in locals, and the loops over the block's
// remainders are emitted separately so the block sizes stay compile-time constants.
internal sealed partial class NetworkEmitter
{
    /// <summary>Output channels × output positions per register block of the convolution.</summary>
    private const int ConvChannelBlock = 4, ConvPositionBlock = 2;
    /// <summary>Dense outputs per register block (forward and input gradient).</summary>
    private const int DenseBlock = 8;
    /// <summary>Weight-gradient rows per work item of a dense layer (the planner's), and columns per register block.</summary>
    private const int DenseWeightRows = KernelChoices.DenseWeightRows;
    private const int DenseWeightColumns = 2;
    /// <summary>Largest kernel width that is unrolled.</summary>
    private const int MaxUnrolledKernel = 7;

    /// <summary>Kernels skip tier-0 JIT: the first epoch should not run unoptimized vector code.</summary>
    private const string Hot = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]";

    private void EmitKernels()
    {
        foreach (var g in _plan.Groups)
        {
            if (g.IsConv)
            {
                EmitConvForward(g);
                if (g.FusesInference) EmitConvInferPooled(g);
                if (g.NeedsBackward) EmitConvWeights(g);
                if (g.NeedsInputGradient) EmitConvInputGrad(g);
            }
            if (g.IsDense)
            {
                EmitDenseForward(g);
                EmitDenseWeights(g);
                if (g.NeedsInputGradient) EmitDenseInputGrad(g);
            }
            if (!g.HasWeights && g.BatchNorm is not null) EmitStats(g);
            if (g.HasPost)
            {
                EmitPost(g);
                if (g.NeedsBackward) EmitPostBack(g);
            }
            if (g.BatchNorm is not null && g.NeedsBackward) EmitBatchNormBack(g);
        }
    }

    // ------------------------------------------------------------ helpers

    private static string Times(string v, long k) => k == 0 ? "0" : k == 1 ? v : $"{v} * {k}";
    private static string Plus(params string[] terms)
    {
        var t = terms.Where(x => x != "0" && x.Length > 0).ToList();
        return t.Count == 0 ? "0" : string.Join(" + ", t);
    }
    private static string Lit(long k) => k.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>for (v = 0; v &lt; main; v += block) body(block); then one remainder block.</summary>
    private void Blocked(string v, int count, int block, Action<int> body)
    {
        block = Math.Min(block, count);
        int main = count / block * block, rest = count - main;
        _w.Open($"for (nuint {v} = 0; {v} < {main}; {v} += {block})");
        body(block);
        _w.Close();
        if (rest > 0)
        {
            _w.Open("");
            _w.Line($"const nuint {v} = {main};");
            body(rest);
            _w.Close();
        }
    }

    /// <summary>The group's activation applied to <paramref name="y"/> (y itself without one).</summary>
    private static string Activate(Group g, string y) => g.Activation is { } a ? ActivationKind.Of(a.Kind)!.Forward(a, y) : y;

    /// <summary>True when the activation's derivative is computed from its input rather than its output.</summary>
    private static bool GradientFromInput(Group g) => g.Activation is { } a && ActivationKind.Of(a.Kind)!.GradientFromInput;

    /// <summary>The activation's derivative, from its <paramref name="output"/> or, for
    /// <see cref="GradientFromInput"/> kinds, from its <paramref name="input"/>.</summary>
    private static string ActivationGrad(Group g, string output, string? input = null)
    {
        var a = g.Activation ?? throw new InvalidOperationException("no activation");
        var kind = ActivationKind.Of(a.Kind)!;
        if (kind.GradientFromInput && input is null) throw new InvalidOperationException($"{a.Name}'s gradient needs its input");
        return kind.Derivative(a, output, input ?? "");
    }

    private static string Single(double value) => ((float)value).ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f";

    private void Signature(string summary, string name, string parameters)
    {
        _w.Line($"/// <summary>{summary}</summary>");
        _w.Line(Hot);
        _w.Open($"internal static void {name}<TV, S>({parameters}) {Where}");
        _w.Line("nuint L = (nuint)S.Lanes;");
    }

    // ------------------------------------------------------------ convolution

    /// <summary>One channel group's convolution (the whole convolution when Groups = 1): Cin input and
    /// Cout output channels of the padded input Hp×Wp, a KH×KW kernel moved SH rows and SW columns at a step.</summary>
    private readonly record struct ConvGeometry(int Cin, int Hp, int Wp, int Cout, int KH, int KW, int SH, int SW, int OH, int OW)
    {
        public int KK => KH * KW;
        public int CKK => Cin * KH * KW;
        public string Window => (KH == KW ? $"{KH}x{KH} kernel" : $"{KH}x{KW} kernel") + (SH == SW ? $", stride {SH}" : $", stride {SH}x{SW}");
    }

    /// <summary>The geometry of one channel group of <paramref name="g"/>'s convolution.</summary>
    private static ConvGeometry Geometry(Group g)
    {
        var c = g.Producer!;
        var padded = c.PaddedInput;
        return new ConvGeometry(c.GroupInputs, padded.H, padded.W, c.GroupOutputs, c.KernelHeight, c.KernelWidth, c.StrideHeight, c.StrideWidth, c.Output.H, c.Output.W);
    }

    /// <summary>A grouped convolution's kernel: <paramref name="name"/> runs the per-group kernel
    /// (<paramref name="name"/>Group, emitted by <paramref name="body"/> for one group's geometry) on each
    /// group's slices: the group's channels of the tensors laid out [C][H][W][lanes], its filters' rows of
    /// the weights. With one group the kernel is emitted directly.</summary>
    private void GroupedConv(Group g, string summary, string name, string parameters, (string Ref, string Stride)[] slices, Action<ConvGeometry> body, Action? after = null)
    {
        var c = g.Producer!;
        var q = Geometry(g);
        if (c.Groups == 1)
        {
            Signature(summary, name, parameters);
            body(q);
            after?.Invoke();
            _w.Close();
            _w.Line();
            return;
        }
        Signature(summary + $" {c.Groups} groups of {q.Cin} → {q.Cout} channels, each run by {name}Group on its slices.", name, parameters);
        string args = string.Join(", ", slices.Select(a => a.Stride.Length == 0 ? a.Ref : $"ref At(ref {a.Ref}, grp * {a.Stride})"));
        _w.Line($"for (nuint grp = 0; grp < {c.Groups}; grp++) {name}Group<TV, S>({args});");
        after?.Invoke();
        _w.Close();
        _w.Line();
        Signature($"{c.Name}, one channel group: {q.Cin}x{q.Hp}x{q.Wp} → {q.Cout}x{q.OH}x{q.OW}, {q.Window}.", name + "Group", parameters);
        body(q);
        _w.Close();
        _w.Line();
    }

    private void EmitConvForward(Group g)
    {
        var c = g.Producer!;
        var q = Geometry(g);
        bool bn = g.BatchNorm is not null;
        var p = c.PaddedInput;
        GroupedConv(g, $"{c.Name}: {p.C}x{p.H}x{p.W} → {c.Outputs}x{q.OH}x{q.OW}, {q.Window}" +
                  (bn ? $"; accumulates {g.BatchNorm!.Name}'s shifted sums (K, S1, S2) per channel and lane when withStats." : "."),
            Cap(c.Name) + "Forward", "ref float x, ref float w, ref float b, ref float z, ref float stats, bool withStats",
            new[] { ("x", Lit((long)q.Cin * q.Hp * q.Wp) + " * L"), ("w", Lit((long)q.Cout * q.CKK)), ("b", Lit(q.Cout)), ("z", Lit((long)q.Cout * q.OH * q.OW) + " * L"), ("stats", Lit(q.Cout * 3) + " * L"), ("withStats", "") },
            q => PerRegisterFile(r =>
            {
                var tiles = g.Kernels!.Forward(r);
                _w.Line(tiles.Usable
                    ? $"// planned: row tiles of {tiles.Channels} output channel(s) x {tiles.Width} columns, the {tiles.Channels * q.KW} weights of a kernel row in registers"
                    : $"// planned: the general loop (a {q.KW}-wide kernel row leaves no room for two columns of accumulators in {r} registers)");
                if (tiles.Usable) EmitConvForwardRows(q, bn, tiles);
                else EmitConvForwardGeneral(q, bn);
            }));
    }

    /// <summary>Emits the kernel body twice, tiled for 32 vector registers (AVX-512) and for 16, and
    /// lets the JIT keep the one that matches S (S.Lanes is a constant in each specialization).</summary>
    private void PerRegisterFile(Action<int> body)
    {
        _w.Open("if (S.Lanes == 16) // AVX-512: 32 vector registers");
        body(32);
        _w.Close();
        _w.Open("else // AVX2, SSE, NEON, scalar: 16");
        body(16);
        _w.Close();
    }

    /// <summary>Stats locals and the shift K, shared by both forward tilings.</summary>
    private void ConvStatsOpen(int bo)
    {
        for (int j = 0; j < bo; j++) _w.Line($"TV k{j} = S.Zero, s1{j} = S.Zero, s2{j} = S.Zero;");
        _w.Line("bool first = true;");
    }

    private void ConvStatsClose(int bo)
    {
        _w.Open("if (withStats)");
        for (int j = 0; j < bo; j++)
        {
            string at = $"({Plus("oc", Lit(j))}) * 3 * L";
            _w.Line($"S.Store(k{j}, ref stats, {at}); S.Store(s1{j}, ref stats, {at} + L); S.Store(s2{j}, ref stats, {at} + 2 * L);");
        }
        _w.Close();
    }

    /// <summary>Stores a tile of outputs and, with withStats, adds it to the shifted sums.</summary>
    private void ConvStoreTile(ConvGeometry q, int bo, int bp, bool bn, Func<int, int, string> acc)
    {
        for (int j = 0; j < bo; j++)
            for (int p = 0; p < bp; p++)
                _w.Line($"S.Store({acc(j, p)}, ref z, ((({Plus("oc", Lit(j))}) * {q.OH} + oh) * {q.OW} + {Plus("ow", Lit(p))}) * L);");
        if (!bn) return;
        _w.Open("if (withStats)");
        _w.Open("if (first)");
        _w.Line("first = false; // the shift K: the chunk's first value of each channel (lane 0), broadcast");
        for (int j = 0; j < bo; j++) _w.Line($"k{j} = S.Create(At(ref z, ({Plus("oc", Lit(j))}) * {q.OH * q.OW} * L));");
        _w.Close();
        _w.Line("TV d;");
        for (int j = 0; j < bo; j++)
            for (int p = 0; p < bp; p++)
                _w.Line($"d = S.Sub({acc(j, p)}, k{j}); s1{j} = S.Add(s1{j}, d); s2{j} = S.MulAdd(d, d, s2{j});");
        _w.Close();
    }

    /// <summary>Row tiling: a tile of one output row for a few channels in registers; per (input
    /// channel, kernel row) the weights are broadcast once and each input column is loaded once and
    /// multiplied into every output column it reaches (statically unrolled pairs).</summary>
    private void EmitConvForwardRows(ConvGeometry q, bool bn, ConvTiles tiles) =>
        EmitConvForwardLoops(q, bn, tiles.Channels, tiles.Width, (bo, t) => EmitForwardRowTile(q, bo, t, bn));

    /// <summary>The loops both forward tilings share: channel blocks (bias, batch-norm sums), output
    /// rows, and blocks of columns whose body <paramref name="tile"/> emits.</summary>
    private void EmitConvForwardLoops(ConvGeometry q, bool bn, int channels, int columns, Action<int, int> tile)
    {
        Blocked("oc", q.Cout, channels, bo =>
        {
            for (int j = 0; j < bo; j++) _w.Line($"TV b{j} = S.Create(At(ref b, {Plus("oc", Lit(j))}));");
            if (bn) ConvStatsOpen(bo);
            _w.Open($"for (nuint oh = 0; oh < {q.OH}; oh++)");
            Blocked("ow", q.OW, columns, t => tile(bo, t));
            _w.Close();
            if (bn) ConvStatsClose(bo);
        });
    }

    /// <summary>One tile: output row oh, columns ow..ow+t−1, channels oc..oc+bo−1.</summary>
    private void EmitForwardRowTile(ConvGeometry q, int bo, int t, bool bn)
    {
        for (int j = 0; j < bo; j++)
            _w.Line(string.Join(" ", Enumerable.Range(0, t).Select(p => $"TV a{j}_{p} = b{j};")));
        _w.Open($"for (nuint ic = 0; ic < {q.Cin}; ic++)");
        _w.Open($"for (nuint kh = 0; kh < {q.KH}; kh++)");
        _w.Line($"nuint xo = ((ic * {q.Hp} + {Plus(Times("oh", q.SH), "kh")}) * {q.Wp} + {Times("ow", q.SW)}) * L;");
        _w.Line($"nuint wo = ((oc * {q.Cin} + ic) * {q.KH} + kh) * {q.KW};");
        for (int j = 0; j < bo; j++)
            _w.Line(string.Join(" ", Enumerable.Range(0, q.KW).Select(kw => $"TV w{j}_{kw} = S.Create(At(ref w, {Plus("wo", Lit((long)j * q.CKK + kw))}));")));
        _w.Line("TV xv;");
        for (int iw = 0; iw <= (t - 1) * q.SW + q.KW - 1; iw++)
        {
            var pairs = Enumerable.Range(0, t).SelectMany(p => Enumerable.Range(0, q.KW).Where(kw => p * q.SW + kw == iw).Select(kw => (p, kw))).ToList();
            if (pairs.Count == 0) continue;
            var fmas = pairs.SelectMany(pk => Enumerable.Range(0, bo).Select(j => $"a{j}_{pk.p} = S.MulAdd(w{j}_{pk.kw}, xv, a{j}_{pk.p});"));
            _w.Line($"xv = S.Load(ref x, {Plus("xo", iw == 0 ? "0" : $"{iw} * L")}); {string.Join(" ", fmas)}");
        }
        _w.Close();
        _w.Close();
        ConvStoreTile(q, bo, t, bn, (j, p) => $"a{j}_{p}");
    }

    /// <summary>Inference: convolution (batch norm folded into w and b), activation and pooling in one
    /// pass. For each pooled row, the pool's rows of every channel are computed into z, still in L1,
    /// and immediately reduced by the window and activated into s.</summary>
    private void EmitConvInferPooled(Group g)
    {
        var c = g.Producer!;
        var q = Geometry(g);
        var pq = PGeometry(g);
        string parts = string.Join(" → ", g.Layers.Where(l => l.Kind != LayerKind.BatchNorm).Select(l => l.Name));
        Signature($"Inference, {parts} as one pass ({g.BatchNorm?.Name ?? "no batch norm"}{(g.BatchNorm is null ? "" : " folded into the weights")}): {g.Input} → {g.Output}.",
            Cap(c.Name) + "InferPooled", "ref float x, ref float w, ref float b, ref float z, ref float s");
        PerRegisterFile(r =>
        {
            var tiles = g.Kernels!.Forward(r);
            _w.Open($"for (nuint oh0 = 0; oh0 < {q.OH}; oh0 += {pq.P})");
            Blocked("oc", q.Cout, tiles.Channels, bo =>
            {
                for (int j = 0; j < bo; j++) _w.Line($"TV b{j} = S.Create(At(ref b, {Plus("oc", Lit(j))}));");
                _w.Open($"for (nuint oh = oh0; oh < oh0 + {pq.P}; oh++)");
                Blocked("ow", q.OW, tiles.Width, t => EmitForwardRowTile(q, bo, t, bn: false));
                _w.Close();
            });
            _w.Line($"nuint ph = oh0 / {pq.P};");
            _w.Open($"for (nuint c = 0; c < {q.Cout}; c++)");
            _w.Line($"nuint zc = c * {pq.HW} * L, sc = c * {pq.OHW} * L;");
            _w.Open($"for (nuint pw = 0; pw < {pq.OW}; pw++)");
            _w.Line($"nuint zw = zc + ({Times("ph", (long)pq.Q * pq.W)} + {Times("pw", pq.Q)}) * L;");
            EmitPoolWindow(g, pq, normalize: false, storeIndex: false);
            _w.Close();
            _w.Close();
            _w.Close();
        });
        _w.Close();
        _w.Line();
    }

    /// <summary>General tiling for kernels too wide to hold their weights: a block of channels × a
    /// few positions, loops over every tap.</summary>
    private void EmitConvForwardGeneral(ConvGeometry q, bool bn) =>
        EmitConvForwardLoops(q, bn, ConvChannelBlock, ConvPositionBlock, (bo, bp) => EmitConvForwardBlock(q, bo, bp, bn));

    private void EmitConvForwardBlock(ConvGeometry q, int bo, int bp, bool bn)
    {
        for (int j = 0; j < bo; j++)
            _w.Line(string.Join(" ", Enumerable.Range(0, bp).Select(p => $"TV a{j}{p} = b{j};")));
        _w.Open($"for (nuint ic = 0; ic < {q.Cin}; ic++)");
        _w.Open($"for (nuint kh = 0; kh < {q.KH}; kh++)");
        _w.Line($"nuint xo = ((ic * {q.Hp} + {Plus(Times("oh", q.SH), "kh")}) * {q.Wp} + {Times("ow", q.SW)}) * L;");
        _w.Line($"nuint wo = ((oc * {q.Cin} + ic) * {q.KH} + kh) * {q.KW};");
        void Tap(string kw)
        {
            for (int p = 0; p < bp; p++) _w.Line($"TV x{p} = S.Load(ref x, xo + ({Plus(Lit(p * q.SW), kw)}) * L);");
            for (int j = 0; j < bo; j++)
            {
                _w.Line($"TV w{j} = S.Create(At(ref w, {Plus("wo", Lit((long)j * q.CKK), kw)}));");
                _w.Line(string.Join(" ", Enumerable.Range(0, bp).Select(p => $"a{j}{p} = S.MulAdd(w{j}, x{p}, a{j}{p});")));
            }
        }
        if (q.KW <= MaxUnrolledKernel)
            for (int kw = 0; kw < q.KW; kw++) { _w.Open(""); Tap(Lit(kw)); _w.Close(); }
        else
        {
            _w.Open($"for (nuint kw = 0; kw < {q.KW}; kw++)");
            Tap("kw");
            _w.Close();
        }
        _w.Close();
        _w.Close();
        ConvStoreTile(q, bo, bp, bn, (j, p) => $"a{j}{p}");
    }

    private void EmitConvWeights(Group g)
    {
        var c = g.Producer!;
        var q = Geometry(g);
        GroupedConv(g, $"{c.Name}: dW[oc,ic,kh,kw] = Σ over positions and lanes of dz·x, and db = Σ dz, for one chunk (summed over chunks later, in chunk order).",
            Cap(c.Name) + "Weights", "ref float x, ref float dz, ref float dw",
            new[] { ("x", Lit((long)q.Cin * q.Hp * q.Wp) + " * L"), ("dz", Lit((long)q.Cout * q.OH * q.OW) + " * L"), ("dw", Lit((long)q.Cout * q.CKK)) },
            q => PerRegisterFile(r =>
            {
                var tiles = g.Kernels!.Weights(r);
                _w.Line(tiles.Inputs == 1 && tiles.Split == 1
                    ? $"// planned: {tiles.Channels} output channel(s) x {tiles.Width} kernel columns of accumulators"
                    : $"// planned: {tiles.Channels} output channel(s) x {tiles.Inputs} input channel(s) x {tiles.Width} kernel columns" +
                      (tiles.Split > 1 ? $" x {tiles.Split} interleaved sets over output columns" : "") +
                      $" = {tiles.Channels * tiles.Inputs * tiles.Width * tiles.Split} accumulators: at least {ConvTiles.LatencyCover} independent sums keep the FMA units busy");
                EmitConvWeightsBody(q, tiles);
            }),
            after: () =>
            {
                _w.Open($"for (nuint oc = 0; oc < {c.Outputs}; oc++)");
                _w.Line("TV sum = S.Zero;");
                _w.Line($"for (nuint p = 0; p < {q.OH * q.OW}; p++) sum = S.Add(sum, S.Load(ref dz, (oc * {q.OH * q.OW} + p) * L));");
                _w.Line($"At(ref dw, {c.WeightCount} + oc) = S.Sum(sum);");
                _w.Close();
            });
    }

    /// <summary>Accumulators for a block of output channels × a block of input channels × a span of kernel
    /// columns (× interleaved sets over the output columns), summed over every output position of the chunk
    /// (lanes stay separate until the final horizontal sum).</summary>
    private void EmitConvWeightsBody(ConvGeometry q, ConvTiles tiles)
    {
        for (int start = 0; start < q.KW; start += tiles.Width)
        {
            int size = Math.Min(tiles.Width, q.KW - start);
            _w.Line($"// kernel columns {start}..{start + size - 1}");
            Blocked("oc", q.Cout, tiles.Channels, bo =>
            {
                if (tiles.Inputs == 1)
                {
                    _w.Open($"for (nuint ic = 0; ic < {q.Cin}; ic++)");
                    EmitConvWeightsTile(q, tiles.Split, start, size, bo, 1);
                    _w.Close();
                }
                else
                {
                    Blocked("ic", q.Cin, tiles.Inputs, bi => EmitConvWeightsTile(q, tiles.Split, start, size, bo, bi));
                }
            });
        }
    }

    /// <summary>One tile of the weight gradient: output channels oc..oc+bo−1, input channels ic..ic+bi−1, kernel
    /// columns start..start+size−1, for every kernel row; <paramref name="split"/> accumulator sets take turns
    /// over the output columns and are added before the horizontal sum.</summary>
    private void EmitConvWeightsTile(ConvGeometry q, int split, int start, int size, int bo, int bi)
    {
        // g{j}_{kw} for one input channel and one set (the original names); otherwise g{j}_{i}_{kw}_{s}.
        string G(int j, int i, int kw, int s) => bi == 1 && split == 1 ? $"g{j}_{kw}" : $"g{j}_{i}_{kw}_{s}";
        long plane = (long)q.Hp * q.Wp;
        _w.Open($"for (nuint kh = 0; kh < {q.KH}; kh++)");
        for (int s = 0; s < split; s++)
            for (int j = 0; j < bo; j++)
                for (int i = 0; i < bi; i++)
                    _w.Line(string.Join(" ", Enumerable.Range(0, size).Select(kw => $"TV {G(j, i, kw, s)} = S.Zero;")));
        _w.Open($"for (nuint oh = 0; oh < {q.OH}; oh++)");
        _w.Line($"nuint xo = ((ic * {q.Hp} + {Plus(Times("oh", q.SH), "kh")}) * {q.Wp} + {start}) * L;");
        _w.Line($"nuint zo = (oc * {q.OH} + oh) * {q.OW} * L;");
        void Column(string ow, int s)
        {
            _w.Line(string.Join(" ", Enumerable.Range(0, bo).Select(j => $"TV d{j} = S.Load(ref dz, zo + ({Plus(Lit((long)j * q.OH * q.OW), ow)}) * L);")));
            for (int i = 0; i < bi; i++)
                for (int kw = 0; kw < size; kw++)
                    _w.Line($"{{ TV xv = S.Load(ref x, xo + ({Plus(Lit(i * plane), Times(ow.Contains(' ') ? $"({ow})" : ow, q.SW), Lit(kw))}) * L); {string.Join(" ", Enumerable.Range(0, bo).Select(j => $"{G(j, i, kw, s)} = S.MulAdd(d{j}, xv, {G(j, i, kw, s)});"))} }}");
        }
        // The sweep over an output row stays a loop: unrolled, a 24-wide row made a body too
        // big for the CPU's decoded-instruction cache and ran 2.9x slower.
        if (split == 1)
        {
            _w.Open($"for (nuint ow = 0; ow < {q.OW}; ow++)");
            Column("ow", 0);
            _w.Close();
        }
        else
        {
            int main = q.OW / split * split;
            _w.Open($"for (nuint ow = 0; ow < {main}; ow += {split})");
            for (int s = 0; s < split; s++) { _w.Open(""); Column(Plus("ow", Lit(s)), s); _w.Close(); }
            _w.Close();
            // The columns left over go to the sets in turn.
            for (int r = 0; r < q.OW - main; r++) { _w.Open(""); Column(Lit(main + r), r); _w.Close(); }
        }
        _w.Close();
        for (int j = 0; j < bo; j++)
            for (int i = 0; i < bi; i++)
                for (int kw = 0; kw < size; kw++)
                {
                    string sum = G(j, i, kw, 0);
                    for (int s = 1; s < split; s++) sum = $"S.Add({sum}, {G(j, i, kw, s)})";
                    _w.Line($"At(ref dw, (({Plus("oc", Lit(j))}) * {q.Cin} + {Plus("ic", Lit(i))}) * {q.KK} + kh * {q.KW} + {start + kw}) = S.Sum({sum});");
                }
        _w.Close();
    }

    private void EmitConvInputGrad(Group g)
    {
        var c = g.Producer!;
        var q = Geometry(g);
        GroupedConv(g, $"{c.Name}: dx[ic,ih,iw] = Σ over oc and the (kh,kw) that reach (ih,iw) of w·dz, gathered so each dx is written once.",
            Cap(c.Name) + "InputGrad", "ref float dz, ref float w, ref float dx",
            new[] { ("dz", Lit((long)q.Cout * q.OH * q.OW) + " * L"), ("w", Lit((long)q.Cout * q.CKK)), ("dx", Lit((long)q.Cin * q.Hp * q.Wp) + " * L") },
            q => PerRegisterFile(r =>
            {
                var tiles = g.Kernels!.InputGradient(r);
                _w.Line(g.Kernels.InputGradientRows(r)
                    ? $"// planned: row tiles of {tiles.Width} input columns, {tiles.Split} accumulator(s) per column, the {q.KW} weights of a kernel row in registers"
                    : tiles.Usable
                        ? $"// planned: the general loop (the row tiles would unroll {(long)q.OW * q.KW} > {KernelChoices.MaxUnrolledInputGradient} column x kernel steps)"
                        : $"// planned: the general loop (a {q.KW}-wide kernel row leaves no room for two columns in {r} registers)");
                if (g.Kernels.InputGradientRows(r)) EmitConvInputGradRows(q, tiles);
                else EmitConvInputGradGeneral(q);
            }));
    }

    private void RowRange(ConvGeometry q)
    {
        _w.Line($"nint ohLo = global::System.Math.Max(0, (ih - {q.KH - q.SH}) / {q.SH}), ohHi = global::System.Math.Min({q.OH - 1}, ih / {q.SH});");
    }

    /// <summary>Row tiling: a tile of one input-gradient row in registers; per (output channel, kernel
    /// row) the kernel row's weights are broadcast once and each dz value is multiplied into every
    /// column it reaches. The (dz column, kernel column) pairs of each tile are enumerated statically,
    /// so the borders cost nothing.</summary>
    private void EmitConvInputGradRows(ConvGeometry q, ConvTiles tiles)
    {
        _w.Open($"for (nuint ic = 0; ic < {q.Cin}; ic++)");
        _w.Open($"for (nint ih = 0; ih < {q.Hp}; ih++)");
        RowRange(q);
        for (int iw0 = 0; iw0 < q.Wp; iw0 += tiles.Width)
        {
            int t = Math.Min(tiles.Width, q.Wp - iw0);
            // (ow, kw, p): dz column ow with kernel column kw lands on dx column iw0 + p.
            var pairs = (from ow in Enumerable.Range(0, q.OW)
                         from kw in Enumerable.Range(0, q.KW)
                         let p = ow * q.SW + kw - iw0
                         where p >= 0 && p < t
                         select (ow, kw, p)).ToList();
            if (pairs.Count == 0)
            {
                // Right-hand padding columns past the last window (a strided kernel): their gradient is zero.
                _w.Open($"// dx columns {iw0}..{iw0 + t - 1}: no window reaches them");
                for (int p = 0; p < t; p++) _w.Line($"S.Store(S.Zero, ref dx, ((ic * {q.Hp} + (nuint)ih) * {q.Wp} + {iw0 + p}) * L);");
                _w.Close();
                continue;
            }
            _w.Open($"// dx columns {iw0}..{iw0 + t - 1}");
            // With Split = 2, column p sums even kernel columns in a{p} and odd ones in e{p}.
            string Acc(int p, int kw) => tiles.Split == 2 && kw % 2 == 1 ? $"e{p}" : $"a{p}";
            _w.Line(string.Join(" ", Enumerable.Range(0, t).Select(p => $"TV a{p} = S.Zero;")));
            if (tiles.Split == 2) _w.Line(string.Join(" ", Enumerable.Range(0, t).Select(p => $"TV e{p} = S.Zero;")));
            _w.Open($"for (nuint oc = 0; oc < {q.Cout}; oc++)");
            _w.Open("for (nint oh = ohLo; oh <= ohHi; oh++)");
            _w.Line($"nuint wo = ((oc * {q.Cin} + ic) * {q.KH} + (nuint)({Plus("ih", "-" + Times("oh", q.SH))})) * {q.KW};".Replace("+ -", "- "));
            _w.Line($"nuint zo = (oc * {q.OH} + (nuint)oh) * {q.OW} * L;");
            var kws = pairs.Select(x => x.kw).Distinct().OrderBy(k => k).ToList();
            _w.Line(string.Join(" ", kws.Select(kw => $"TV w{kw} = S.Create(At(ref w, {Plus("wo", Lit(kw))}));")));
            _w.Line("TV d;");
            foreach (var group in pairs.GroupBy(x => x.ow).OrderBy(x => x.Key))
                _w.Line($"d = S.Load(ref dz, {Plus("zo", group.Key == 0 ? "0" : $"{group.Key} * L")}); {string.Join(" ", group.Select(x => $"{Acc(x.p, x.kw)} = S.MulAdd(w{x.kw}, d, {Acc(x.p, x.kw)});"))}");
            _w.Close();
            _w.Close();
            if (tiles.Split == 2) for (int p = 0; p < t; p++) _w.Line($"a{p} = S.Add(a{p}, e{p});");
            for (int p = 0; p < t; p++) _w.Line($"S.Store(a{p}, ref dx, ((ic * {q.Hp} + (nuint)ih) * {q.Wp} + {iw0 + p}) * L);");
            _w.Close();
        }
        _w.Close();
        _w.Close();
    }

    /// <summary>General gather for wide kernels: a block of input channels per position, loops over
    /// the taps that reach it.</summary>
    private void EmitConvInputGradGeneral(ConvGeometry q)
    {
        int block = Math.Min(q.Cin, 6);
        Blocked("ic", q.Cin, block, bi =>
        {
            _w.Open($"for (nint ih = 0; ih < {q.Hp}; ih++)");
            RowRange(q);
            _w.Open($"for (nint iw = 0; iw < {q.Wp}; iw++)");
            _w.Line($"nint owLo = global::System.Math.Max(0, (iw - {q.KW - q.SW}) / {q.SW}), owHi = global::System.Math.Min({q.OW - 1}, iw / {q.SW});");
            _w.Line(string.Join(" ", Enumerable.Range(0, bi).Select(j => $"TV a{j} = S.Zero;")));
            _w.Open($"for (nuint oc = 0; oc < {q.Cout}; oc++)");
            _w.Open("for (nint oh = ohLo; oh <= ohHi; oh++)");
            _w.Line($"nuint zo = (oc * {q.OH} + (nuint)oh) * {q.OW};");
            _w.Line($"nuint wo = ((oc * {q.Cin} + ic) * {q.KH} + (nuint)({Plus("ih", "-" + Times("oh", q.SH))})) * {q.KW};".Replace("+ -", "- "));
            _w.Open("for (nint ow = owLo; ow <= owHi; ow++)");
            _w.Line("TV d = S.Load(ref dz, (zo + (nuint)ow) * L);");
            _w.Line($"nuint wk = wo + (nuint)(iw - {Times("ow", q.SW)});");
            for (int j = 0; j < bi; j++) _w.Line($"a{j} = S.MulAdd(S.Create(At(ref w, {Plus("wk", Lit((long)j * q.KK))})), d, a{j});");
            _w.Close();
            _w.Close();
            _w.Close();
            for (int j = 0; j < bi; j++) _w.Line($"S.Store(a{j}, ref dx, ((({Plus("ic", Lit(j))}) * {q.Hp} + (nuint)ih) * {q.Wp} + (nuint)iw) * L);");
            _w.Close();
            _w.Close();
        });
    }

    // ------------------------------------------------------------ dense

    private void EmitDenseForward(Group g)
    {
        var d = g.Producer!;
        long k = d.Input.Size;
        int f = d.Outputs;
        bool bn = g.BatchNorm is not null;
        Signature($"{d.Name}: z = W·x + b, {k} → {f}" + (bn ? $"; with withStats, {g.BatchNorm!.Name}'s per-chunk shifted sums." : "."),
            Cap(d.Name) + "Forward", "ref float x, ref float w, ref float b, ref float z, ref float stats, bool withStats");
        Blocked("f", f, DenseBlock, bf =>
        {
            for (int j = 0; j < bf; j++) _w.Line($"TV a{j} = S.Create(At(ref b, {Plus("f", Lit(j))}));");
            _w.Line($"nuint wo = f * {k};");
            _w.Open($"for (nuint k = 0; k < {k}; k++, wo++)");
            _w.Line("TV xk = S.Load(ref x, k * L);");
            for (int j = 0; j < bf; j++) _w.Line($"a{j} = S.MulAdd(S.Create(At(ref w, {Plus("wo", Lit((long)j * k))})), xk, a{j});");
            _w.Close();
            for (int j = 0; j < bf; j++) _w.Line($"S.Store(a{j}, ref z, ({Plus("f", Lit(j))}) * L);");
            if (bn)
            {
                _w.Open("if (withStats)");
                for (int j = 0; j < bf; j++)
                {
                    string at = $"({Plus("f", Lit(j))}) * 3 * L";
                    _w.Line($"{{ TV sh = S.Create(At(ref z, ({Plus("f", Lit(j))}) * L)); TV dv = S.Sub(a{j}, sh); S.Store(sh, ref stats, {at}); S.Store(dv, ref stats, {at} + L); S.Store(S.Mul(dv, dv), ref stats, {at} + 2 * L); }}");
                }
                _w.Close();
            }
        });
        _w.Close();
        _w.Line();
    }

    private void EmitDenseInputGrad(Group g)
    {
        var d = g.Producer!;
        long k = d.Input.Size;
        int f = d.Outputs;
        Signature($"{d.Name}: dx = Wᵀ·dz, {f} → {k}.", Cap(d.Name) + "InputGrad", "ref float dz, ref float w, ref float dx");
        Blocked("k", (int)k, DenseBlock, bk =>
        {
            _w.Line(string.Join(" ", Enumerable.Range(0, bk).Select(j => $"TV a{j} = S.Zero;")));
            _w.Open($"for (nuint f = 0; f < {f}; f++)");
            _w.Line("TV dv = S.Load(ref dz, f * L);");
            _w.Line($"nuint wo = f * {k} + k;");
            for (int j = 0; j < bk; j++) _w.Line($"a{j} = S.MulAdd(S.Create(At(ref w, {Plus("wo", Lit(j))})), dv, a{j});");
            _w.Close();
            for (int j = 0; j < bk; j++) _w.Line($"S.Store(a{j}, ref dx, ({Plus("k", Lit(j))}) * L);");
        });
        _w.Close();
        _w.Line();
    }

    private void EmitDenseWeights(Group g)
    {
        var d = g.Producer!;
        long k = d.Input.Size;
        int f = d.Outputs;
        _w.Line($"/// <summary>{d.Name}: dW[f,k] = Σ over the batch of dz·x and db = Σ dz, for rows {DenseWeightRows}·block onwards; one thread");
        _w.Line("/// sums each weight over every chunk in order, so no partial sums need merging.</summary>");
        _w.Line(Hot);
        _w.Open($"internal static void {Cap(d.Name)}Weights<TV, S>(int block, int chunks, ref float x, nuint xStride, ref float dz, nuint dzStride, ref float dw, ref float db) {Where}");
        _w.Line("nuint L = (nuint)S.Lanes;");
        _w.Line($"nuint f = (nuint)block * {DenseWeightRows};");
        int rest = f % DenseWeightRows;
        if (rest == 0) Rows(DenseWeightRows);
        else
        {
            _w.Open($"if (f + {DenseWeightRows} <= {f})");
            Rows(DenseWeightRows);
            _w.Close();
            _w.Open("else");
            Rows(rest);
            _w.Close();
        }
        _w.Close();
        _w.Line();

        void Rows(int rows)
        {
            Blocked("k", (int)k, DenseWeightColumns, bk =>
            {
                for (int j = 0; j < rows; j++)
                    _w.Line(string.Join(" ", Enumerable.Range(0, bk).Select(i => $"TV g{j}{i} = S.Zero;")));
                _w.Open("for (nuint c = 0; c < (nuint)chunks; c++)");
                _w.Line("nuint xo = c * xStride + k * L, zo = c * dzStride + f * L;");
                for (int j = 0; j < rows; j++) _w.Line($"TV d{j} = S.Load(ref dz, {(j == 0 ? "zo" : $"zo + {j} * L")});");
                for (int i = 0; i < bk; i++)
                {
                    _w.Line($"TV x{i} = S.Load(ref x, {(i == 0 ? "xo" : $"xo + {i} * L")});");
                    _w.Line(string.Join(" ", Enumerable.Range(0, rows).Select(j => $"g{j}{i} = S.MulAdd(d{j}, x{i}, g{j}{i});")));
                }
                _w.Close();
                for (int j = 0; j < rows; j++)
                    for (int i = 0; i < bk; i++)
                        _w.Line($"At(ref dw, ({Plus("f", Lit(j))}) * {k} + {Plus("k", Lit(i))}) = S.Sum(g{j}{i});");
            });
            for (int j = 0; j < rows; j++)
            {
                _w.Line($"{{ TV sum = S.Zero; for (nuint c = 0; c < (nuint)chunks; c++) sum = S.Add(sum, S.Load(ref dz, c * dzStride + ({Plus("f", Lit(j))}) * L)); At(ref db, {Plus("f", Lit(j))}) = S.Sum(sum); }}");
            }
        }
    }
}

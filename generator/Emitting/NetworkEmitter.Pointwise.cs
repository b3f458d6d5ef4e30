using System.Linq;
using GraphGen.Generator.Model;
using GraphGen.Generator.Planning;

namespace GraphGen.Generator.Emitting;

// The fused epilogue of a group (batch-norm apply → activation → pooling) and its backward pass.
// 2-D groups are C×1×1, so the same code serves dense layers.
internal sealed partial class NetworkEmitter
{
    private readonly record struct PointwiseGeometry(int C, int H, int W, int P, int Q, int OH, int OW)
    {
        public int HW => H * W;
        public int OHW => OH * OW;
    }

    private static PointwiseGeometry PGeometry(Group g) => g.Pool is { } p
        ? new PointwiseGeometry(g.Z.C, g.Z.H, g.Z.W, p.KernelHeight, p.StrideHeight, p.Output.H, p.Output.W)
        : new PointwiseGeometry(g.Z.C, g.Z.H, g.Z.W, 1, 1, g.Z.H, g.Z.W);

    private static string Reciprocal(int n) => (1.0f / n).ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "f";

    /// <summary>The value entering the activation at <paramref name="offset"/>: z, batch-normalized
    /// when the group has a BatchNorm, plus the shortcut when it has a residual Add.</summary>
    private static string Pre(Group g, string offset, bool normalize = true)
    {
        string v = $"S.Load(ref z, {offset})";
        if (!normalize) return v;
        // (z − center)·scale + shift: subtracting the mean first keeps the result exact when the
        // variance is tiny next to the mean (the form scale·z + (β − mean·scale) cancels there).
        if (g.BatchNorm is not null) v = $"S.MulAdd(S.Sub({v}, ce), a, sh)";
        if (g.Residual is not null) v = $"S.Add({v}, S.Load(ref r, {offset}))";
        return v;
    }

    /// <summary>The extra parameter of the epilogue kernels of a group with a residual Add.</summary>
    private static string ResidualParameter(Group g) => g.Residual is null ? "" : ", ref float r";

    /// <summary>Window positions (u, v) of a pool, in the scan order that breaks max ties.</summary>
    private static (int U, int V, int J)[] Window(int p) =>
        Enumerable.Range(0, p * p).Select(j => (j / p, j % p, j)).ToArray();

    private void EmitStats(Group g)
    {
        var q = PGeometry(g);
        Signature($"{g.BatchNorm!.Name}: shifted sums (K, S1, S2) per channel and lane of its input, for one chunk.",
            $"G{g.Index}Stats", "ref float x, ref float stats");
        _w.Open($"for (nuint c = 0; c < {q.C}; c++)");
        _w.Line($"nuint xo = c * {q.HW} * L;");
        _w.Line("TV k = S.Create(At(ref x, xo)), s1 = S.Zero, s2 = S.Zero;");
        _w.Line($"for (nuint p = 0; p < {q.HW}; p++) {{ TV d = S.Sub(S.Load(ref x, xo + p * L), k); s1 = S.Add(s1, d); s2 = S.MulAdd(d, d, s2); }}");
        _w.Line("S.Store(k, ref stats, c * 3 * L); S.Store(s1, ref stats, (c * 3 + 1) * L); S.Store(s2, ref stats, (c * 3 + 2) * L);");
        _w.Close();
        _w.Close();
        _w.Line();
    }

    private void EmitPost(Group g)
    {
        var q = PGeometry(g);
        string parts = string.Join(" → ", g.Layers.Where(l => !l.IsProducer).Select(l => l.Name));
        Signature($"{parts}, fused: one pass over the chunk, {g.Z} → {g.Output}." +
                  (g.Pool?.Kind == LayerKind.MaxPool2D ? " The activation is monotonic, so it is applied once, after the max; the arg-max window index is kept for the backward pass." : ""),
            $"G{g.Index}Post", "ref float z, ref float scale, ref float center, ref float shift, ref float s, ref float idx" + ResidualParameter(g));
        _w.Open($"for (nuint c = 0; c < {q.C}; c++)");
        if (g.BatchNorm is not null) _w.Line("TV a = S.Create(At(ref scale, c)), ce = S.Create(At(ref center, c)), sh = S.Create(At(ref shift, c));");
        _w.Line($"nuint zc = c * {q.HW} * L, sc = c * {q.OHW} * L;");
        switch (g.Pool?.Kind)
        {
            case null:
                _w.Line($"for (nuint p = 0; p < {q.HW}; p++) S.Store({Activate(g, Pre(g, "zc + p * L"))}, ref s, sc + p * L);");
                break;
            case LayerKind.GlobalAvgPool2D:
                _w.Line("TV sum = S.Zero;");
                _w.Line($"for (nuint p = 0; p < {q.HW}; p++) sum = S.Add(sum, {Activate(g, Pre(g, "zc + p * L"))});");
                _w.Line($"S.Store(S.Mul(sum, S.Create({Reciprocal(q.HW)})), ref s, sc);");
                break;
            default:
                _w.Open($"for (nuint ph = 0; ph < {q.OH}; ph++)");
                _w.Open($"for (nuint pw = 0; pw < {q.OW}; pw++)");
                _w.Line($"nuint zw = zc + ({Times("ph", (long)q.Q * q.W)} + {Times("pw", q.Q)}) * L;");
                EmitPoolWindow(g, q, normalize: true, storeIndex: true);
                _w.Close();
                _w.Close();
                break;
        }
        _w.Close();
        _w.Close();
        _w.Line();
    }

    /// <summary>One pooling window at zw (pooled position ph, pw of channel c): batch-norm apply if
    /// <paramref name="normalize"/>, then max (with the arg-max index, if stored) or mean, and the
    /// activation; writes the pooled value at sc + (ph·OW + pw)·L.</summary>
    private void EmitPoolWindow(Group g, PointwiseGeometry q, bool normalize, bool storeIndex)
    {
        string N(string offset) => Pre(g, offset, normalize);
        _w.Line($"nuint o = sc + (ph * {q.OW} + pw) * L;");
        if (g.Pool!.Kind == LayerKind.MaxPool2D)
        {
            _w.Line($"TV best = {N("zw")}{(storeIndex ? ", arg = S.Zero" : "")};");
            foreach (var (u, v, j) in Window(q.P).Skip(1))
                _w.Line(storeIndex
                    ? $"{{ TV y = {N($"zw + {u * q.W + v} * L")}; TV gt = S.GreaterThan(y, best); best = S.Select(gt, y, best); arg = S.Select(gt, S.Create({j}f), arg); }}"
                    : $"{{ TV y = {N($"zw + {u * q.W + v} * L")}; best = S.Select(S.GreaterThan(y, best), y, best); }}");
            _w.Line($"S.Store({Activate(g, "best")}, ref s, o);");
            if (storeIndex) _w.Line("S.Store(arg, ref idx, o);");
        }
        else
        {
            _w.Line("TV sum = S.Zero;");
            foreach (var (u, v, _) in Window(q.P))
                _w.Line($"sum = S.Add(sum, {Activate(g, N($"zw + {u * q.W + v} * L"))});");
            _w.Line($"S.Store(S.Mul(sum, S.Create({Reciprocal(q.P * q.P)})), ref s, o);");
        }
    }

    private void EmitPostBack(Group g)
    {
        var q = PGeometry(g);
        string parts = string.Join(" → ", g.Layers.Where(l => !l.IsProducer).Reverse().Select(l => l.Name));
        bool bn = g.BatchNorm is not null, act = g.Activation is not null;
        Signature($"Backward of {parts} for one chunk: dz from ds" + (bn ? $", plus {g.BatchNorm!.Name}'s sums R1 = Σ dy and R2 = Σ dy·(z − mean) per channel and lane." : "."),
            $"G{g.Index}PostBack", "ref float ds, ref float s, ref float idx, ref float z, ref float scale, ref float shift, ref float mean, ref float dz, ref float partial" + ResidualParameter(g));
        _w.Open($"for (nuint c = 0; c < {q.C}; c++)");
        _w.Line($"nuint zc = c * {q.HW} * L, sc = c * {q.OHW} * L;");
        switch (g.Pool?.Kind)
        {
            case null:
                string grad = act ? $"S.Mul(S.Load(ref ds, sc + p * L), {ActivationGrad(g, "S.Load(ref s, sc + p * L)", Pre(g, "zc + p * L"))})" : "S.Load(ref ds, sc + p * L)";
                if (act && GradientFromInput(g) && bn) _w.Line("TV a = S.Create(At(ref scale, c)), ce = S.Create(At(ref mean, c)), sh = S.Create(At(ref shift, c));");
                _w.Line($"for (nuint p = 0; p < {q.HW}; p++) S.Store({grad}, ref dz, zc + p * L);");
                break;
            case LayerKind.MaxPool2D:
            {
                bool exact = g.PoolTilesExactly;
                if (!exact) _w.Line($"for (nuint p = 0; p < {q.HW}; p++) S.Store(S.Zero, ref dz, zc + p * L);");
                _w.Open($"for (nuint ph = 0; ph < {q.OH}; ph++)");
                _w.Open($"for (nuint pw = 0; pw < {q.OW}; pw++)");
                _w.Line($"nuint o = sc + (ph * {q.OW} + pw) * L;");
                _w.Line($"TV gv = {(act ? $"S.Mul(S.Load(ref ds, o), {ActivationGrad(g, "S.Load(ref s, o)")})" : "S.Load(ref ds, o)")};");
                _w.Line("TV arg = S.Load(ref idx, o);");
                _w.Line($"nuint zw = zc + ({Times("ph", (long)q.Q * q.W)} + {Times("pw", q.Q)}) * L;");
                foreach (var (u, v, j) in Window(q.P))
                {
                    string value = $"S.And(S.Equal(arg, S.Create({j}f)), gv)";
                    string at = $"zw + {u * q.W + v} * L";
                    _w.Line(exact ? $"S.Store({value}, ref dz, {at});" : $"S.Store(S.Add(S.Load(ref dz, {at}), {value}), ref dz, {at});");
                }
                _w.Close();
                _w.Close();
                break;
            }
            case LayerKind.GlobalAvgPool2D:
            {
                _w.Line($"TV gv = S.Mul(S.Load(ref ds, sc), S.Create({Reciprocal(q.HW)}));");
                _w.Line($"for (nuint p = 0; p < {q.HW}; p++) S.Store(gv, ref dz, zc + p * L);");
                EmitActivationBackOverZ(g, q);
                break;
            }
            default:
            {
                _w.Line($"for (nuint p = 0; p < {q.HW}; p++) S.Store(S.Zero, ref dz, zc + p * L);");
                _w.Open($"for (nuint ph = 0; ph < {q.OH}; ph++)");
                _w.Open($"for (nuint pw = 0; pw < {q.OW}; pw++)");
                _w.Line($"TV gv = S.Mul(S.Load(ref ds, sc + (ph * {q.OW} + pw) * L), S.Create({Reciprocal(q.P * q.P)}));");
                _w.Line($"nuint zw = zc + ({Times("ph", (long)q.Q * q.W)} + {Times("pw", q.Q)}) * L;");
                foreach (var (u, v, _) in Window(q.P))
                    _w.Line($"S.Store(S.Add(S.Load(ref dz, zw + {u * q.W + v} * L), gv), ref dz, zw + {u * q.W + v} * L);");
                _w.Close();
                _w.Close();
                EmitActivationBackOverZ(g, q);
                break;
            }
        }
        if (bn && q.HW == 1)
        {
            // One value per channel and lane: nothing to sum within the chunk (lanes and chunks are
            // added in double by BatchNormState.MergeGradChunks).
            _w.Line("TV mu = S.Create(At(ref mean, c)), r1 = S.Zero, r2 = S.Zero;");
            _w.Line($"for (nuint p = 0; p < {q.HW}; p++) {{ TV dy = S.Load(ref dz, zc + p * L); r1 = S.Add(r1, dy); r2 = S.MulAdd(dy, S.Sub(S.Load(ref z, zc + p * L), mu), r2); }}");
            _w.Line("S.Store(r1, ref partial, c * 2 * L); S.Store(r2, ref partial, (c * 2 + 1) * L);");
        }
        else if (bn)
        {
            // The sums over positions can nearly cancel (dγ and dβ of a batch norm whose output feeds a
            // 1x1 conv and another batch norm): they are compensated (TwoSum: e collects each addition's
            // exact rounding error, and, where MulAdd is fused, the product's), so a chunk's sum is
            // nearly exact however many positions it has.
            _w.Line("TV mu = S.Create(At(ref mean, c)), r1 = S.Zero, r2 = S.Zero, e1 = S.Zero, e2 = S.Zero;");
            _w.Open($"for (nuint p = 0; p < {q.HW}; p++)");
            _w.Line("TV dy = S.Load(ref dz, zc + p * L), d = S.Sub(S.Load(ref z, zc + p * L), mu), t = S.Mul(dy, d);");
            _w.Line("TV s1 = S.Add(r1, dy), v1 = S.Sub(s1, r1); e1 = S.Add(e1, S.Add(S.Sub(r1, S.Sub(s1, v1)), S.Sub(dy, v1))); r1 = s1;");
            _w.Line("TV s2 = S.Add(r2, t), v2 = S.Sub(s2, r2); e2 = S.Add(e2, S.Add(S.Add(S.Sub(r2, S.Sub(s2, v2)), S.Sub(t, v2)), S.MulAdd(dy, d, S.Sub(S.Zero, t)))); r2 = s2;");
            _w.Close();
            _w.Line("S.Store(S.Add(r1, e1), ref partial, c * 2 * L); S.Store(S.Add(r2, e2), ref partial, (c * 2 + 1) * L);");
        }
        _w.Close();
        _w.Close();
        _w.Line();
    }

    /// <summary>After an average pool's backward spread ds over z's positions: multiply by the
    /// activation's derivative, recomputed from z (the pooled output does not have it).</summary>
    private void EmitActivationBackOverZ(Group g, PointwiseGeometry q)
    {
        if (g.Activation is null) return;
        if (g.BatchNorm is not null) _w.Line("TV a = S.Create(At(ref scale, c)), ce = S.Create(At(ref mean, c)), sh = S.Create(At(ref shift, c));");
        _w.Open($"for (nuint p = 0; p < {q.HW}; p++)");
        if (GradientFromInput(g))
        {
            _w.Line($"TV x = {Pre(g, "zc + p * L")};");
            _w.Line($"S.Store(S.Mul(S.Load(ref dz, zc + p * L), {ActivationGrad(g, "", "x")}), ref dz, zc + p * L);");
        }
        else
        {
            _w.Line($"TV t = {Activate(g, Pre(g, "zc + p * L"))};");
            _w.Line($"S.Store(S.Mul(S.Load(ref dz, zc + p * L), {ActivationGrad(g, "t")}), ref dz, zc + p * L);");
        }
        _w.Close();
    }

    private void EmitBatchNormBack(Group g)
    {
        var q = PGeometry(g);
        Signature($"{g.BatchNorm!.Name} backward for one chunk, in place: dz = a·(dy − mean(dy)) + c1·(z − mean) per channel.",
            $"G{g.Index}BatchNormBack", "ref float dz, ref float z, ref float mean, ref float ga, ref float c1, ref float meanDy");
        _w.Open($"for (nuint c = 0; c < {q.C}; c++)");
        _w.Line("TV a = S.Create(At(ref ga, c)), k1 = S.Create(At(ref c1, c)), md = S.Create(At(ref meanDy, c)), mu = S.Create(At(ref mean, c));");
        _w.Line($"nuint zc = c * {q.HW} * L;");
        _w.Open($"for (nuint p = 0; p < {q.HW}; p++)");
        _w.Line("nuint o = zc + p * L;");
        _w.Line("S.Store(S.MulAdd(a, S.Sub(S.Load(ref dz, o), md), S.Mul(k1, S.Sub(S.Load(ref z, o), mu))), ref dz, o);");
        _w.Close();
        _w.Close();
        _w.Close();
        _w.Line();
    }
}

using System.Linq;
using GraphGen.Generator.Model;
using GraphGen.Generator.Planning;

namespace GraphGen.Generator.Emitting;

// The training step, inference, the phase methods and their SIMD dispatch.
internal sealed partial class NetworkEmitter
{
    private static readonly (string Simd, string Vector, string Ops)[] Paths =
    {
        ("Vector512", "global::System.Runtime.Intrinsics.Vector512<float>", "global::GraphGen.Simd.Vec512"),
        ("Vector256", "global::System.Runtime.Intrinsics.Vector256<float>", "global::GraphGen.Simd.Vec256"),
        ("Vector128", "global::System.Runtime.Intrinsics.Vector128<float>", "global::GraphGen.Simd.Vec128"),
    };

    private void EmitTraining()
    {
        _w.Open($"private {Rt}.StepResult Train({Ex}.BatchInput input, {Sys}.ReadOnlySpan<int> labels, float learningRate)");
        _w.Line("int batch = _core.CheckTrain(input.Length, labels, learningRate);");
        _w.Line("_core.EnterTraining();");
        _w.Open("try");
        _w.Line("int lanes = _core.Lanes;");
        _w.Line("int chunks = (batch + lanes - 1) / lanes;");
        _w.Line("if (!input.Stage(_core, 0, batch))");
        _w.Line($"    throw new {Sys}.ArgumentException(\"the inputs contain NaN or infinity\", \"inputs\");");
        _w.Line("labels.CopyTo(_labels);");
        _w.Line("_batch = batch; _chunks = chunks; _invBatch = 1f / batch; _learningRate = learningRate;");
        _w.Line("var pool = _core.Pool;");
        _w.Line("_core.StartLaps();");
        int index = 0, lap = 0;
        foreach (var phase in _plan.Training)
        {
            string what = string.Join("; ", phase.Steps.Select(Describe));
            switch (phase.Partition)
            {
                case Partition.Serial:
                    foreach (var step in phase.Steps) EmitSerial(step);
                    break;
                case Partition.Chunks:
                    _w.Line($"pool.Run(chunks, _train{index++}); // {what}");
                    break;
                case Partition.Features:
                    _w.Line($"pool.Run({FeatureBlocks(phase.Steps[0].Group)}, _train{index++}); // {what}");
                    break;
            }
            _w.Line($"_core.Lap({lap++});");
        }
        foreach (var l in _model.Layers.Where(l => l.Kind == LayerKind.Dropout))
            _w.Line($"{Field(l.Name, "step")}[0] += 1f; // the next step draws new {l.Name} masks");
        _w.Line("bool finite = Update();");
        _w.Line($"_core.Lap({lap});");
        _w.Line("_core.ParametersChanged();");
        _w.Line("double loss = 0; int correct = 0;");
        _w.Line("for (int c = 0; c < chunks; c++) { loss += _chunkLoss[c]; correct += _chunkCorrect[c]; }");
        _w.Line($"return new {Rt}.StepResult(loss, correct, batch, finite);");
        _w.Close();
        _w.Line("finally { _core.ExitTraining(); }");
        _w.Close();
        _w.Line();

        _w.Line("/// <summary>Sums the per-chunk convolution gradients in chunk order, then the network's optimizer (plain SGD, w −= lr·g, unless one is attached) updates every parameter.</summary>");
        _w.Open("private bool Update()");
        _w.Line("int chunks = _chunks;");
        foreach (var g in _plan.Groups.Where(g => g.IsConv))
        {
            var c = g.Producer!;
            string span = $"_arena.Slice(_buf.G{g.Index}W, _buf.G{g.Index}WStride * chunks), _buf.G{g.Index}WStride, chunks";
            _w.Line($"{Ex}.Kernels.SumChunks({span}, {Grad(c.Name, "weight")});");
            _w.Line($"{Ex}.Kernels.SumChunks({span}, {Grad(c.Name, "bias")}, {c.WeightCount});");
        }
        _w.Line("return _core.Update(_owner, _learningRate);");
        _w.Close();
        _w.Line();
    }

    private static int FeatureBlocks(Group g) => (g.Z.C + DenseWeightRows - 1) / DenseWeightRows;

    private static string Describe(Step s) => s.Kind switch
    {
        StepKind.Pad => $"pad {s.Group.Producer!.Name} input",
        StepKind.Produce => $"{s.Group.Producer!.Name} forward" + (s.Group.BatchNorm is null ? "" : $" + {s.Group.BatchNorm.Name} statistics"),
        StepKind.Stats => $"{s.Group.BatchNorm!.Name} statistics",
        StepKind.MergeStats => $"merge {s.Group.BatchNorm!.Name} statistics",
        StepKind.Post => $"{string.Join("+", s.Group.Layers.Where(l => !l.IsProducer).Select(l => l.Name))} epilogue",
        StepKind.Loss => "softmax cross-entropy",
        StepKind.PostBack => $"{string.Join("+", s.Group.Layers.Where(l => !l.IsProducer).Reverse().Select(l => l.Name))} backward",
        StepKind.ShortcutGrad => $"{s.Group.Residual!.Name} gradient to the shortcut {s.Group.ShortcutValue}",
        StepKind.MergeGrad => $"merge {s.Group.BatchNorm!.Name} gradient sums",
        StepKind.BatchNormBack => $"{s.Group.BatchNorm!.Name} dx",
        StepKind.ConvWeights => $"{s.Group.Producer!.Name} weight gradient",
        StepKind.DenseWeights => $"{s.Group.Producer!.Name} weight gradient",
        _ => s.Group.Producer is null ? $"{s.Group.Title} gradient added to {s.Group.InputValue}'s" : $"{s.Group.Producer.Name} input gradient" + (s.Group.IsConcat ? "s" : ""),
    };

    /// <summary>The names of the timed laps of a training step: the phases, then the update.</summary>
    private string[] LapNames() =>
        _plan.Training.Select(p => string.Join("; ", p.Steps.Select(Describe))).Concat(new[] { "SGD update" }).ToArray();

    private void EmitSerial(Step step)
    {
        string bn = "_" + step.Group.BatchNorm!.Name;
        string name = step.Kind == StepKind.MergeStats ? $"G{step.Group.Index}F" : $"G{step.Group.Index}B";
        string method = step.Kind == StepKind.MergeStats ? "MergeChunks" : "MergeGradChunks";
        _w.Line($"{bn}.{method}(_arena.Slice(_buf.{name}, _buf.{name}Stride * chunks), _buf.{name}Stride, batch, lanes); // {Describe(step)}");
    }

    private void EmitInference()
    {
        var last = _plan.Last;
        string output = BufferLayout.Out(last);
        _w.Open($"private void Infer({Ex}.BatchInput input, {Sys}.Span<float> logits)");
        _w.Line("int n = _core.CheckInfer(input.Length, logits.Length);");
        _w.Line("_core.EnsureFolded(_fold);");
        _w.Line("bool shared = _core.EnterInference();");
        _w.Line("GraphGenWorkspace? workspace = shared ? null : _core.RentWorkspace(_newWorkspace);");
        _w.Open("try");
        _w.Line($"{Ex}.Arena arena = shared ? _arena : workspace!.Arena;");
        _w.Line("GraphGenBuffers b = shared ? _buf : workspace!.Buffers;");
        _w.Line("int lanes = _core.Lanes;");
        _w.Line("int per = shared ? _core.MaxChunks * lanes : lanes;");
        _w.Open("for (int first = 0; first < n; first += per)");
        _w.Line($"int count = {Sys}.Math.Min(per, n - first);");
        _w.Line("int chunks = (count + lanes - 1) / lanes;");
        _w.Open("if (shared)");
        _w.Line("if (!input.Stage(_core, first, count))");
        _w.Line($"    throw new {Sys}.ArgumentException(\"the inputs contain NaN or infinity\", \"inputs\");");
        _w.Line("_inferCount = count;");
        _w.Line("_core.Pool.Run(chunks, _infer); // each chunk is packed by the thread that runs it");
        _w.Close();
        _w.Open("else");
        _w.Line("if (!input.Pack(first, count, InputSize, lanes, arena.Slice(b.X, b.XStride * chunks), b.XStride))");
        _w.Line($"    throw new {Sys}.ArgumentException(\"the inputs contain NaN or infinity\", \"inputs\");");
        _w.Line("for (int c = 0; c < chunks; c++) InferChunk(arena, b, c);");
        _w.Close();
        _w.Line($"{Ex}.LaneLayout.Unpack(arena.Slice(b.{output}, b.{output}Stride * chunks), b.{output}Stride, count, Classes, lanes, logits.Slice(first * Classes, count * Classes));");
        _w.Close();
        _w.Close();
        _w.Line("finally { if (!shared) _core.ReturnWorkspace(workspace!); _core.ExitInference(shared); }");
        _w.Close();
        _w.Line();
        _w.Line("/// <summary>Recomputes what inference derives from the parameters: batch norm folded into the");
        _w.Line("/// producer before it, or its moving-statistics coefficients where there is none.</summary>");
        _w.Open("private void Fold()");
        foreach (var g in _plan.Groups.Where(g => g.BatchNorm is not null))
        {
            if (g.HasWeights && g.Producer is { } p)
                _w.Line($"_{g.BatchNorm!.Name}.Fold({Field(p.Name, "weight")}, {Field(p.Name, "bias")}, {Field(p.Name, "weight")}_folded, {Field(p.Name, "bias")}_folded);");
            else
                _w.Line($"_{g.BatchNorm!.Name}.PrepareInference();");
        }
        _w.Close();
        _w.Line();
        _w.Open("private void InferPhase(int item, int worker)");
        _w.Line("_core.PackStaged(item, _inferCount, _core.Lanes, _arena.Slice(_buf.X + _buf.XStride * item, _buf.XStride));");
        _w.Line("InferChunk(_arena, _buf, item);");
        _w.Close();
        _w.Line();
        EmitDispatch("InferChunk", $"{Ex}.Arena arena, GraphGenBuffers b, int c", "arena, b, c");
        _w.Line(Hot);
        _w.Open($"private void InferChunk<TV, S>({Ex}.Arena arena, GraphGenBuffers b, int c) {Where}");
        _w.Line("ref float m = ref arena.Origin;");
        foreach (var g in _plan.Groups)
        {
            _w.Line($"// {g.Title}");
            if (g.IsConv && g.Padding > 0) EmitStep(new Step(StepKind.Pad, g), inference: true);
            if (g.FusesInference)
            {
                var p = g.Producer!;
                string suffix = g.BatchNorm is null ? "" : "_folded";
                _w.Line($"{Cap(p.Name)}InferPooled<TV, S>({Slot(BufferLayout.ProducerIn(_plan, g))}, {Arr(Field(p.Name, "weight") + suffix)}, {Arr(Field(p.Name, "bias") + suffix)}, {Slot($"G{g.Index}Z")}, {Slot(BufferLayout.Out(g))});");
                continue;
            }
            if (g.Producer is not null) EmitStep(new Step(StepKind.Produce, g), inference: true);
            if (g.HasPost) EmitStep(new Step(StepKind.Post, g), inference: true);
        }
        _w.Close();
        _w.Line();
    }

    private void EmitDispatch(string name, string parameters, string arguments)
    {
        _w.Open($"private void {name}({parameters})");
        _w.Open("switch (_simd)");
        foreach (var (simd, vector, ops) in Paths)
            _w.Line($"case {Rt}.SimdPath.{simd}: {name}<{vector}, {ops}>({arguments}); break;");
        _w.Line($"default: {name}<float, global::GraphGen.Simd.VecScalar>({arguments}); break;");
        _w.Close();
        _w.Close();
        _w.Line();
    }

    private void EmitPhases()
    {
        int index = 0;
        foreach (var phase in _plan.Training)
        {
            if (phase.Partition == Partition.Serial) continue;
            string name = $"Train{index++}";
            string what = phase.Partition == Partition.Chunks ? "one chunk of images" : "one block of output features, over the whole batch";
            _w.Line($"/// <summary>{string.Join("; ", phase.Steps.Select(Describe))}: {what}.</summary>");
            EmitDispatch(name, "int item, int worker", "item");
            _w.Line(Hot);
            _w.Open($"private void {name}<TV, S>(int c) {Where}");
            _w.Line("var arena = _arena;");
            _w.Line("var b = _buf;");
            _w.Line("ref float m = ref arena.Origin;");
            if (phase.Steps.Any(s => s.Kind is StepKind.Loss or StepKind.BatchNormBack))
                _w.Line($"int valid = {Ex}.LaneLayout.Valid(c, _batch, S.Lanes);");
            if (index == 1)
            {
                _w.Line("// the batch, staged by Train, packed into this chunk's lanes");
                _w.Line($"_core.PackStaged(c, _batch, S.Lanes, {Chunk("X")});");
            }
            foreach (var step in phase.Steps)
            {
                _w.Line($"// {Describe(step)}");
                EmitStep(step, inference: false);
            }
            _w.Close();
            _w.Line();
        }
    }

    /// <summary>A convolution's padding as the Pad and Crop kernels take it: one value when it is the same on both axes.</summary>
    private static string Pads(LayerModel c) => c.PaddingHeight == c.PaddingWidth ? Lit(c.PaddingHeight) : $"{c.PaddingHeight}, {c.PaddingWidth}";

    private static string Slot(string buffer) => $"ref Slot(ref m, b.{buffer}, b.{buffer}Stride, c)";
    private string Chunk(string buffer) => _buffers.Any(x => x.Name == buffer && x.Shares)
        ? $"arena.Slice(b.{buffer} + b.{buffer}Stride * c, b.{buffer}Size)"
        : $"arena.Slice(b.{buffer} + b.{buffer}Stride * c, b.{buffer}Stride)";
    private static string Arr(string field) => $"ref Ref({field})";

    private void EmitStep(Step step, bool inference)
    {
        Group g = step.Group;
        string k = g.Producer is null ? "" : Cap(g.Producer.Name);
        string bn = g.BatchNorm is null ? "" : "_" + g.BatchNorm.Name;
        string input = BufferLayout.In(_plan, g);
        switch (step.Kind)
        {
            case StepKind.Pad:
            {
                var c = g.Producer!;
                _w.Line($"{Ex}.Kernels.Pad({Chunk(input)}, {Chunk($"G{g.Index}P")}, {c.Input.C}, {c.Input.H}, {c.Input.W}, {Pads(c)}, S.Lanes);");
                break;
            }
            case StepKind.Produce when g.IsDropout:
            {
                var d = g.Producer!;
                string x = Chunk(input), z = Chunk($"G{g.Index}Z");
                int layer = _model.Layers.ToList().IndexOf(d);
                if (inference)
                    _w.Line($"{x}.Slice(0, {g.Z.Size} * S.Lanes).CopyTo({z}); // {d.Name} is the identity in inference");
                else
                    _w.Line($"{Ex}.Kernels.Dropout({x}, {z}, {Chunk($"G{g.Index}M")}, {g.Z.Size}, S.Lanes, c, _core.Seed, (long){Field(d.Name, "step")}[0], {layer}, {Single(d.Rate)});");
                break;
            }
            case StepKind.Produce when g.IsConcat:
            {
                // Each input fills its channel slice of z (a chunk is [C][H][W][lanes], so a slice is contiguous).
                long offset = 0;
                foreach (var value in g.HeadInputs)
                {
                    long floats = _plan.Producing(value) is { } from ? from.Output.Size : _model.Input.Size;
                    _w.Line($"{Chunk(BufferLayout.Of(_plan, value))}.Slice(0, {floats} * S.Lanes).CopyTo({Chunk($"G{g.Index}Z")}.Slice({offset} * S.Lanes));");
                    offset += floats;
                }
                break;
            }
            case StepKind.Produce:
            {
                var p = g.Producer!;
                bool fold = inference && g.BatchNorm is not null;
                string w = Field(p.Name, "weight") + (fold ? "_folded" : ""), bias = Field(p.Name, "bias") + (fold ? "_folded" : "");
                bool stats = !inference && g.BatchNorm is not null;
                string statsRef = stats ? Slot($"G{g.Index}F") : "ref m";
                _w.Line($"{k}Forward<TV, S>({Slot(BufferLayout.ProducerIn(_plan, g))}, {Arr(w)}, {Arr(bias)}, {Slot($"G{g.Index}Z")}, {statsRef}, {(stats ? "true" : "false")});");
                break;
            }
            case StepKind.Stats:
                _w.Line($"G{g.Index}Stats<TV, S>({Slot(BufferLayout.PostIn(_plan, g))}, {Slot($"G{g.Index}F")});");
                break;
            case StepKind.Post:
            {
                // y = (z − center)·scale + shift: the batch (training) or moving (inference) mean and β;
                // identity coefficients where there is no batch norm or it is folded into the weights.
                string scale, center, shift;
                if (g.BatchNorm is null || (inference && g.HasWeights)) (scale, center, shift) = ("_ones", "_zeros", "_zeros");
                else if (inference) (scale, center, shift) = (bn + ".InferScale", Field(g.BatchNorm.Name, "moving_mean"), Field(g.BatchNorm.Name, "beta"));
                else (scale, center, shift) = (bn + ".Scale", bn + ".Mean", Field(g.BatchNorm.Name, "beta"));
                string idx = g.Pool?.Definition.TakesMaximum == true ? Slot($"G{g.Index}I") : "ref m";
                string residual = g.Residual is null ? "" : $", {Slot(BufferLayout.Shortcut(_plan, g))}";
                _w.Line($"G{g.Index}Post<TV, S>({Slot(BufferLayout.PostIn(_plan, g))}, {Arr(scale)}, {Arr(center)}, {Arr(shift)}, {Slot(BufferLayout.Out(g))}, {idx}{residual});");
                break;
            }
            case StepKind.Loss:
                _w.Line($"var (loss, correct) = {Ex}.Kernels.SoftmaxCrossEntropy({Chunk(BufferLayout.Out(g))}, {_plan.Classes}, S.Lanes, valid,");
                _w.Line($"    new global::System.ReadOnlySpan<int>(_labels, c * S.Lanes, S.Lanes), _invBatch, {Chunk(BufferLayout.DOut(g))});");
                _w.Line("_chunkLoss[c] = loss;");
                _w.Line("_chunkCorrect[c] = correct;");
                break;
            case StepKind.PostBack:
            {
                string idx = g.Pool?.Definition.TakesMaximum == true ? Slot($"G{g.Index}I") : "ref m";
                string scale = bn.Length > 0 ? bn + ".Scale" : "_ones", shift = bn.Length > 0 ? Field(g.BatchNorm!.Name, "beta") : "_zeros", mean = bn.Length > 0 ? bn + ".Mean" : "_zeros";
                string partial = bn.Length > 0 ? Slot($"G{g.Index}B") : "ref m";
                _w.Line($"G{g.Index}PostBack<TV, S>({Slot(BufferLayout.DOut(g))}, {Slot(BufferLayout.Out(g))}, {idx}, {Slot(BufferLayout.PostIn(_plan, g))},");
                string residual = g.Residual is null ? "" : $", {Slot(BufferLayout.Shortcut(_plan, g))}";
                _w.Line($"    {Arr(scale)}, {Arr(shift)}, {Arr(mean)}, {Slot(BufferLayout.DZ(_plan, g))}, {partial}{residual});");
                break;
            }
            case StepKind.BatchNormBack:
                _w.Line($"G{g.Index}BatchNormBack<TV, S>({Slot(BufferLayout.DZ(_plan, g))}, {Slot(BufferLayout.PostIn(_plan, g))}, {Arr(bn + ".Mean")}, {Arr(bn + ".GradScale")}, {Arr(bn + ".GradC1")}, {Arr(bn + ".GradMeanDy")});");
                _w.Line($"{Ex}.Kernels.ZeroInvalidLanes({Chunk(BufferLayout.DZ(_plan, g))}, {g.Z.Size}, S.Lanes, valid);");
                break;
            case StepKind.ConvWeights:
                _w.Line($"{k}Weights<TV, S>({Slot(BufferLayout.ProducerIn(_plan, g))}, {Slot(BufferLayout.DZ(_plan, g))}, {Slot($"G{g.Index}W")});");
                break;
            case StepKind.InputGrad:
            {
                if (g.IsDropout)
                {
                    string accumulate = g.AccumulatesInputGradient ? "true" : "false";
                    _w.Line($"{Ex}.Kernels.MultiplyInto({Chunk(BufferLayout.DZ(_plan, g))}, {Chunk($"G{g.Index}M")}, {Chunk(BufferLayout.DOf(_plan, g.InputValue))}, accumulate: {accumulate});");
                    break;
                }
                if (g.IsConcat)
                {
                    // The slice of dz that belongs to each input, written or added to its gradient.
                    long offset = 0;
                    var inputs = g.HeadInputs;
                    for (int i = 0; i < inputs.Count; i++)
                    {
                        long floats = _plan.Producing(inputs[i]) is { } from ? from.Output.Size : _model.Input.Size;
                        if (g.InputGradients[i].Needs)
                        {
                            string source = $"{Chunk(BufferLayout.DZ(_plan, g))}.Slice({offset} * S.Lanes, {floats} * S.Lanes)";
                            string gradient = Chunk(BufferLayout.DOf(_plan, inputs[i]));
                            _w.Line(g.InputGradients[i].Accumulates ? $"{Ex}.Kernels.Accumulate({source}, {gradient});" : $"{source}.CopyTo({gradient});");
                        }
                        offset += floats;
                    }
                    break;
                }
                string target = BufferLayout.DOf(_plan, g.InputValue);
                if (g.Producer is not { } p)
                {
                    // A group without a producer that is not the first to write its input's gradient.
                    _w.Line($"{Ex}.Kernels.Accumulate({Chunk(BufferLayout.DZ(_plan, g))}, {Chunk(target)});");
                    break;
                }
                if (g.IsConv && g.Padding > 0)
                {
                    _w.Line($"{k}InputGrad<TV, S>({Slot(BufferLayout.DZ(_plan, g))}, {Arr(Field(p.Name, "weight"))}, {Slot($"G{g.Index}DP")});");
                    string crop = g.AccumulatesInputGradient ? "CropAdd" : "Crop";
                    _w.Line($"{Ex}.Kernels.{crop}({Chunk($"G{g.Index}DP")}, {Chunk(target)}, {p.Input.C}, {p.Input.H}, {p.Input.W}, {Pads(p)}, S.Lanes);");
                }
                else if (BufferLayout.NeedsScratchInputGradient(g))
                {
                    _w.Line($"{k}InputGrad<TV, S>({Slot(BufferLayout.DZ(_plan, g))}, {Arr(Field(p.Name, "weight"))}, {Slot($"G{g.Index}DX")});");
                    _w.Line($"{Ex}.Kernels.Accumulate({Chunk($"G{g.Index}DX")}, {Chunk(target)});");
                }
                else
                    _w.Line($"{k}InputGrad<TV, S>({Slot(BufferLayout.DZ(_plan, g))}, {Arr(Field(p.Name, "weight"))}, {Slot(target)});");
                break;
            }
            case StepKind.ShortcutGrad:
            {
                string source = Chunk(BufferLayout.DZ(_plan, g)), target = Chunk(BufferLayout.DOf(_plan, g.ShortcutValue!));
                _w.Line(g.AccumulatesShortcutGradient
                    ? $"{Ex}.Kernels.Accumulate({source}, {target});"
                    : $"{source}.CopyTo({target});");
                break;
            }
            case StepKind.DenseWeights:
            {
                var p = g.Producer!;
                string dz = BufferLayout.DZ(_plan, g);
                _w.Line($"{k}Weights<TV, S>(c, _chunks, ref Slot(ref m, b.{input}, 0, 0), (nuint)b.{input}Stride, ref Slot(ref m, b.{dz}, 0, 0), (nuint)b.{dz}Stride,");
                _w.Line($"    {Arr(Grad(p.Name, "weight"))}, {Arr(Grad(p.Name, "bias"))});");
                break;
            }
        }
    }

    private void EmitFindNonFinite()
    {
        _w.Line("/// <inheritdoc/>");
        _w.Open("public string? FindNonFinite()");
        var overwritten = BufferPlan.Overwritten(_plan);
        _w.Line("if (_batch == 0) return null;");
        _w.Line("var b = _buf;");
        _w.Line("int n = _batch;");
        Check("X", _model.Input.Size, "the input batch");
        foreach (var g in _plan.Groups)
        {
            if (g.Producer is { } p) Check($"G{g.Index}Z", g.Z.Size, $"forward: {p.Name} output");
            if (g.BatchNorm is { } bn) _w.Line($"if (!_{bn.Name}.StatisticsFinite) return \"forward: {bn.Name} batch statistics\";");
            if (g.HasPost) Check($"G{g.Index}S", g.Output.Size, $"forward: {string.Join(" → ", g.Layers.Where(l => !l.IsProducer).Select(l => l.Name))} output");
        }
        for (int i = _plan.Groups.Count - 1; i >= 0; i--)
        {
            var g = _plan.Groups[i];
            if (!g.NeedsBackward) continue;
            string lastLayer = g.Layers.Last().Name;
            Check(BufferLayout.DOut(g), g.Output.Size, i == _plan.Groups.Count - 1 ? "backward: loss gradient" : $"backward: gradient of the {lastLayer} output");
            if (g.HasPost)
            {
                string what = g.Producer is null ? "of the group input" : $"of the {g.Producer.Name} output";
                Check(BufferLayout.DZ(_plan, g), g.Z.Size, $"backward: {string.Join(" → ", g.Layers.Where(l => !l.IsProducer).Reverse().Select(l => l.Name))} (gradient {what})");
            }
            foreach (var t in Tensors().Where(t => t.Parameter && g.Layers.Contains(t.Layer)))
                _w.Line($"if (!{Ex}.Kernels.AllFinite({t.Field}_grad)) return \"backward: {t.Tensor} gradient\";");
        }
        foreach (var t in Tensors())
            _w.Line($"if (!{Ex}.Kernels.AllFinite({t.Field})) return \"update: {t.Tensor}\";");
        _w.Line("return null;");
        _w.Close();
        _w.Line();

        void Check(string buffer, long features, string what)
        {
            if (overwritten.Contains(buffer))
                _w.Line($"// {what}: not checked, a later gradient reuses {buffer}'s memory (buffer plan)");
            else
                _w.Line($"if (_core.NonFinite(_arena, b.{buffer}, b.{buffer}Stride, {features}, n)) return \"{what}\";");
        }
    }

    private void EmitBuffers()
    {
        _w.Line("/// <summary>Offsets (in floats) of every region of the arena, one slot per chunk of images.</summary>");
        _w.Open("private sealed class GraphGenBuffers");
        foreach (var buffer in _buffers)
        {
            if (!buffer.Shares) _w.Line($"public readonly long {buffer.Name}, {buffer.Name}Stride; // {buffer.Purpose}");
            else _w.Line($"public readonly long {buffer.Name}, {buffer.Name}Stride, {buffer.Name}Size; // {buffer.Purpose}" + (buffer.SharedWith is { } head ? $" (in {head}'s region: never live at the same time)" : " (a region other gradients share)"));
        }
        _w.Line("public readonly long Total;");
        _w.Line();
        _w.Open("public GraphGenBuffers(int chunks, int lanes)");
        _w.Line("long at = 0;");
        foreach (var buffer in _buffers.Where(b => b.SharedWith is null))
        {
            string size = buffer.PerLane ? $"{buffer.RegionFloats ?? buffer.Floats}L * lanes" : $"{buffer.Floats}L";
            _w.Line($"{buffer.Name}Stride = {Ex}.Arena.Align({size}); {buffer.Name} = at; at += {buffer.Name}Stride * chunks;");
        }
        foreach (var buffer in _buffers.Where(b => b.SharedWith is not null))
            _w.Line($"{buffer.Name}Stride = {buffer.SharedWith}Stride; {buffer.Name} = {buffer.SharedWith}; // planned: never live at the same time as {buffer.SharedWith}'s other occupants");
        foreach (var buffer in _buffers.Where(b => b.Shares))
            _w.Line($"{buffer.Name}Size = {Ex}.Arena.Align({buffer.Floats}L * lanes);");
        _w.Line("Total = at;");
        _w.Close();
        _w.Close();
        _w.Line();
        _w.Line("/// <summary>Buffers for one chunk, for an inference call that runs while another holds the shared ones.</summary>");
        _w.Open("private sealed class GraphGenWorkspace");
        _w.Line("public readonly GraphGenBuffers Buffers;");
        _w.Line($"public readonly {Ex}.Arena Arena;");
        _w.Line($"public GraphGenWorkspace(int lanes) {{ Buffers = new GraphGenBuffers(1, lanes); Arena = new {Ex}.Arena(Buffers.Total); }}");
        _w.Close();
        _w.Line();
    }

    private void EmitHelpers()
    {
        const string inline = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]";
        _w.Line(inline);
        _w.Line("private static ref float At(ref float p, nuint i) => ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, i);");
        _w.Line(inline);
        _w.Line("private static ref float Ref(float[] a) => ref global::System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(a);");
        _w.Line(inline);
        _w.Line("private static ref float Slot(ref float m, long offset, long stride, int chunk) => ref global::System.Runtime.CompilerServices.Unsafe.Add(ref m, (nint)(offset + stride * chunk));");
    }
}

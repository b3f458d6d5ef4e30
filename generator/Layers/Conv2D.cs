using System.Collections.Generic;
using System.Linq;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Vocabulary;
using static GraphGen.Generator.Parsing.ShapeInference;

namespace GraphGen.Generator.Layers;

/// <summary>[Conv2D(filters, kernel)]: a 2-D convolution, square (Kernel, Stride, Padding) or per axis
/// (KernelHeight/KernelWidth, ...), padding "Same" or explicit, in channel Groups; O×(C/groups)×kH×kW weight and bias.</summary>
internal sealed class Conv2D : LayerDefinition
{
    public override LayerKind Kind => LayerKind.Conv2D;
    public override string AttributeName => nameof(Conv2DAttribute);
    public override string Stem => "conv";
    public override FusionSlot Slot => FusionSlot.Producer;

    public override LayerSpec Read(IArgumentReader a)
    {
        bool ctorKernel = a.PositionalCount > 1;
        bool namedKernel = a.HasNamed(nameof(Conv2DAttribute.Kernel));
        if (ctorKernel && namedKernel) a.ReportDuplicate(nameof(Conv2DAttribute.Kernel));
        int kernel = ctorKernel ? IntOr(a.Positional(1), 0) : IntOr(a.Named(nameof(Conv2DAttribute.Kernel)), 0);
        return new LayerSpec(Kind, IntOr(a.Positional(0), 0), kernel, ctorKernel || namedKernel,
            IntOr(a.Named(nameof(Conv2DAttribute.Stride)), 1), IntOr(a.Named(nameof(Conv2DAttribute.Padding)), 0), 0, 0, 0)
        {
            KernelHeight = a.Named(nameof(Conv2DAttribute.KernelHeight)) as int?,
            KernelWidth = a.Named(nameof(Conv2DAttribute.KernelWidth)) as int?,
            StrideHeight = a.Named(nameof(Conv2DAttribute.StrideHeight)) as int?,
            StrideWidth = a.Named(nameof(Conv2DAttribute.StrideWidth)) as int?,
            PaddingHeight = a.Named(nameof(Conv2DAttribute.PaddingHeight)) as int?,
            PaddingWidth = a.Named(nameof(Conv2DAttribute.PaddingWidth)) as int?,
            HasStride = a.Named(nameof(Conv2DAttribute.Stride)) is int,
            HasPadding = a.Named(nameof(Conv2DAttribute.Padding)) is int,
            Groups = IntOr(a.Named(nameof(Conv2DAttribute.Groups)), 1),
        };
    }

    public override void Check(LayerSpec s, LayerFindings f)
    {
        if (s.Outputs <= 0) f.Report(nameof(Conv2DAttribute.Filters), DiagnosticDescriptors.NonPositiveSize, f.What, nameof(Conv2DAttribute.Filters), s.Outputs);
        if (s.Groups <= 0) f.Report(nameof(Conv2DAttribute.Groups), DiagnosticDescriptors.NonPositiveSize, f.What, nameof(Conv2DAttribute.Groups), s.Groups);
        CheckWindow(s, f);
    }

    /// <summary>The kernel, stride and padding: square and per-axis forms not mixed, every size given and
    /// positive, each padding an odd kernel's "same" or smaller than the kernel along its axis.</summary>
    private static void CheckWindow(LayerSpec s, LayerFindings f)
    {
        const string Kernel = nameof(Conv2DAttribute.Kernel), KernelHeight = nameof(Conv2DAttribute.KernelHeight), KernelWidth = nameof(Conv2DAttribute.KernelWidth);
        const string Stride = nameof(Conv2DAttribute.Stride), StrideHeight = nameof(Conv2DAttribute.StrideHeight), StrideWidth = nameof(Conv2DAttribute.StrideWidth);
        const string Padding = nameof(Conv2DAttribute.Padding), PaddingHeight = nameof(Conv2DAttribute.PaddingHeight), PaddingWidth = nameof(Conv2DAttribute.PaddingWidth);
        string what = f.What;
        void Conflict(string square, int? height, string quantity, string heightName, string widthName) =>
            f.Report(height is not null ? heightName : widthName, DiagnosticDescriptors.ConflictingArguments,
                what, square, height is not null ? heightName : widthName, quantity, Inv($"{heightName} and {widthName}"));

        bool kernelOk = true;
        if (s.HasKernel && (s.KernelHeight is not null || s.KernelWidth is not null)) { Conflict(Kernel, s.KernelHeight, "kernel", KernelHeight, KernelWidth); kernelOk = false; }
        else if (s.KernelHeight is null != s.KernelWidth is null)
        {
            f.Report(null, DiagnosticDescriptors.MissingArgument, what, Inv($"both {KernelHeight} and {KernelWidth} for a rectangular kernel"),
                Inv($"[Conv2D({s.Outputs}, {KernelHeight} = {s.KernelHeight ?? 3}, {KernelWidth} = {s.KernelWidth ?? 1})]"));
            kernelOk = false;
        }
        else if (!s.HasKernel && s.KernelHeight is null)
        {
            f.Report(null, DiagnosticDescriptors.MissingArgument, what, "a kernel size", Inv($"[Conv2D({s.Outputs}, Kernel = 5)]"));
            kernelOk = false;
        }
        var (kh, kw) = s.Kernels;
        string khName = s.HasKernel ? Kernel : KernelHeight, kwName = s.HasKernel ? Kernel : KernelWidth;
        if (kernelOk)
            foreach (var (name, k) in new[] { (khName, kh), (kwName, kw) }.Distinct())
                if (k <= 0) { f.Report(name, DiagnosticDescriptors.NonPositiveSize, what, name, k); kernelOk = false; }

        if (s.HasStride && (s.StrideHeight is not null || s.StrideWidth is not null)) Conflict(Stride, s.StrideHeight, "stride", StrideHeight, StrideWidth);
        else
        {
            bool square = s.StrideHeight is null && s.StrideWidth is null;
            var (sh, sw) = s.Strides;
            foreach (var (name, v) in new[] { (square ? Stride : StrideHeight, sh), (square ? Stride : StrideWidth, sw) }.Distinct())
                if (v <= 0) f.Report(name, DiagnosticDescriptors.StrideBelowOne, what, name, v);
        }

        if (s.HasPadding && (s.PaddingHeight is not null || s.PaddingWidth is not null)) { Conflict(Padding, s.PaddingHeight, "padding", PaddingHeight, PaddingWidth); return; }
        bool squarePadding = s.PaddingHeight is null && s.PaddingWidth is null;
        var (ph, pw) = s.Paddings;
        // A square Padding against a rectangular kernel is checked on both axes but reported once.
        var reported = new HashSet<string>();
        foreach (var (name, p, kernelName, k) in new[] { (squarePadding ? Padding : PaddingHeight, ph, khName, kh), (squarePadding ? Padding : PaddingWidth, pw, kwName, kw) }.Distinct())
        {
            if (reported.Contains(name)) continue;
            bool found = true;
            string value = p == Conv2DAttribute.Same ? "Same" : p.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (p == Conv2DAttribute.Same)
            {
                if (kernelOk && k % 2 == 0) f.Report(name, DiagnosticDescriptors.SamePaddingEvenKernel, what, name, kernelName, k);
                else found = false;
            }
            else if (p < 0) f.Report(name, DiagnosticDescriptors.NegativePadding, what, name, value);
            else if (kernelOk && p >= k)
            {
                string kernel = kernelName == Kernel ? Inv($"the kernel ({k})") : Inv($"{kernelName} ({k})");
                f.Report(name, DiagnosticDescriptors.PaddingNotBelowKernel, what, name, value, kernel);
            }
            else found = false;
            if (found) reported.Add(name);
        }
    }

    public override Shape? Output(ShapeRule rule)
    {
        LayerSpec s = rule.Spec;
        Shape shape = rule.Input;
        string what = rule.What;
        if (!shape.IsImage) return rule.Fail(null, DiagnosticDescriptors.NeedsImageInput, what, rule.FlatInputReason());
        var w = Window(s);
        int kh = w.KernelHeight, kw = w.KernelWidth, sh = w.StrideHeight, sw = w.StrideWidth, ph = w.PaddingHeight, pw = w.PaddingWidth;
        if (shape.C % s.Groups != 0 || s.Outputs % s.Groups != 0)
            return rule.Fail(nameof(Conv2DAttribute.Groups), DiagnosticDescriptors.GroupsMismatch, what, s.Groups, shape.C, s.Outputs);
        long hp = (long)shape.H + 2L * ph, wp = (long)shape.W + 2L * pw;
        if (kh > hp || kw > wp)
        {
            string padded = ph > 0 || pw > 0 ? Inv($" (padded to {hp}x{wp})") : "";
            string argument = s.HasKernel ? nameof(Conv2DAttribute.Kernel) : kh > hp ? nameof(Conv2DAttribute.KernelHeight) : nameof(Conv2DAttribute.KernelWidth);
            return rule.Fail(argument, DiagnosticDescriptors.WindowTooLarge, what, Inv($"{kh}x{kw}"), shape.ToString(), padded);
        }
        long oh = (hp - kh) / sh + 1, ow = (wp - kw) / sw + 1;
        // Checked in double first: absurd kernels and paddings overflow int and long.
        double outputSize = (double)s.Outputs * oh * ow;
        double weights = (double)s.Outputs * (shape.C / s.Groups) * kh * kw + s.Outputs;
        if (outputSize > MaxFloatsPerSample)
            return rule.Fail(null, DiagnosticDescriptors.TooLarge, what, "an output of", Count(outputSize), Inv($"values per sample ({s.Outputs}x{oh}x{ow})"), Count(MaxFloatsPerSample));
        if (weights + rule.Parameters > MaxParameters)
            return rule.Fail(null, DiagnosticDescriptors.TooLarge, what, "the network", Count(weights + rule.Parameters), "parameters", Count(MaxParameters));
        return Shape.Image(s.Outputs, (int)oh, (int)ow);
    }

    /// <summary>The window per axis, "same" padding resolved to (kernel − 1) / 2 (odd kernels only, checked).</summary>
    public override Window Window(LayerSpec s)
    {
        var (kh, kw) = s.Kernels;
        var (sh, sw) = s.Strides;
        var (ph, pw) = s.Paddings;
        if (ph == Conv2DAttribute.Same) ph = (kh - 1) / 2;
        if (pw == Conv2DAttribute.Same) pw = (kw - 1) / 2;
        return new(kh, kw, sh, sw, ph, pw, s.Groups);
    }

    public override IEnumerable<LayerTensor> Tensors(LayerModel l) => new[]
    {
        new LayerTensor(LayerTensor.Weight, new[] { l.Outputs, l.GroupInputs, l.KernelHeight, l.KernelWidth }, true),
        new LayerTensor("bias", new[] { l.Outputs }, true),
    };

    public override string InfoArguments(LayerModel l) =>
        $", Outputs: {l.Outputs}, Kernel: {l.KernelHeight}, Stride: {l.StrideHeight}, Padding: {l.PaddingHeight}";

    /// <summary>A rectangular or grouped convolution's other axis and groups (the arguments are the rows').</summary>
    public override string InfoProperties(LayerModel l) =>
        (l.IsSquare ? "" : $", KernelWidth = {l.KernelWidth}, StrideWidth = {l.StrideWidth}, PaddingWidth = {l.PaddingWidth}") +
        (l.Groups != 1 ? $", Groups = {l.Groups}" : "");
}

namespace GraphGen.Onnx.Nodes;

/// <summary>MaxPool2D → MaxPool.</summary>
internal sealed class MaxPool2DNode : Pool2DNode
{
    public override LayerKind Kind => LayerKind.MaxPool2D;
    protected override string OpType => "MaxPool";
}

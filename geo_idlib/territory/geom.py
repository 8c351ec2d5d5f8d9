"""Geometry helpers of control areas: polygonal parts, local projections, transforms, dissolves."""

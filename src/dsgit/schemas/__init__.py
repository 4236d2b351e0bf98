"""dsgit's JSON Schemas: one per file kind (editors, ``dsgit validate``) and the plan format."""

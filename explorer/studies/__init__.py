"""Studies: many trainings at once (configurations x methods x seeds), locally or on a Dask cluster."""

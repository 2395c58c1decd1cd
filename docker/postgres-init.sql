-- Run once by the postgres image on a new volume: Evolution API keeps its instances and messages in its own database.
CREATE DATABASE evolution;
